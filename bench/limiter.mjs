// Micro-benchmark of the limiter: cost per decision of the memory store, and the latency one
// Redis round trip (EVALSHA of the GCRA script) adds. Needs `npm run build` (dist/) and, for the
// Redis part, a server at REDIS_URL (default redis://127.0.0.1:6379).
//   node bench/limiter.mjs [decisions]      (BENCH_DIST picks another build than dist/, as in run.mjs)
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.BENCH_DIST ?? 'dist');
const load = (path) => import(pathToFileURL(resolve(dist, path)).href);
const { memoryRateLimitStore } = await load('ratelimit/stores/memory.js');
const { connectRedis } = await load('platform/node/redis.js');
const { redisRateLimitStore } = await load('ratelimit/stores/redis.node.js');

const decisions = Number(process.argv[2] ?? 200_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:${randomUUID()}:`;

/** Caller-wide GCRA + per-flow GCRA + a daily quota: the heaviest common case. */
function policies(caller, now) {
  const day = Math.floor(now / 86_400_000);
  return [
    { kind: 'gcra', name: 'caller', key: `${prefix}{${caller}}:caller`, intervalMs: 50, burst: 40 },
    { kind: 'window', name: 'quota', key: `${prefix}{${caller}}:caller:q:${day}`, limit: 1e9, windowMs: 86_400_000, windowEnd: (day + 1) * 86_400_000 },
    { kind: 'gcra', name: 'flow', key: `${prefix}{${caller}}:flow:hello`, intervalMs: 200, burst: 10 },
  ];
}

async function measure(label, store, count, callers) {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    const result = await store.check(policies(`c${i % callers}`, now), now);
    if (!result.ok) throw new Error(`${label}: ${result.error} ${result.detail ?? ''}`);
  }
  const us = ((performance.now() - started) * 1000) / count;
  console.log(`${label.padEnd(36)} ${us.toFixed(2).padStart(8)} µs/decision  (${count} decisions, ${callers} callers)`);
}

const memory = memoryRateLimitStore({ maxKeys: 100_000 });
await measure('memory, 3 policies', memory, decisions, 1_000);
await measure('memory, 3 policies, LRU churn', memoryRateLimitStore({ maxKeys: 1_000 }), decisions, 50_000);

const connection = connectRedis(redisUrl, { timeoutMs: 1_000, log: () => {} });
try {
  await connection.ready();
  const redis = redisRateLimitStore(connection.redis, { ready: connection.ready, timeoutMs: 1_000 });
  const sequential = Math.min(decisions, 20_000);
  await measure('redis, 3 policies, sequential', redis, sequential, 1_000);
  const started = performance.now();
  const concurrent = 20_000;
  await Promise.all(Array.from({ length: concurrent }, (_, i) => redis.check(policies(`p${i % 1_000}`, Date.now()), Date.now())));
  console.log(
    `${'redis, 3 policies, 20k in flight'.padEnd(36)} ${(((performance.now() - started) * 1000) / concurrent).toFixed(2).padStart(8)} µs/decision (throughput view)`,
  );
} catch (error) {
  console.log(`redis: skipped (${error.message})`);
} finally {
  await connection.close();
}
