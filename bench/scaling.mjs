// Scaling figures for docs/scaling.md, measured in one run so they are ratios on the same machine:
//   1. req/s of `flowgate serve --workers 1` against `--workers 2` (memory store, the stand-in upstream),
//      interleaved run by run so drift on a shared machine hits both alike; the median of the runs;
//   2. the limiter's cost per decision (3 policies: caller GCRA, daily quota, flow GCRA) on one Redis
//      against a three-master Redis Cluster, both started here on loopback, sequential and 20k in flight.
// Needs `npm run build` (dist/), redis-server and redis-cli.
// Usage: node bench/scaling.mjs [--runs N] [--duration S] [--connections N] [--decisions N]
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const DIST = resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    decisions: { type: 'string', default: '20000' },
  },
});
const runs = Number(flags.runs);
const children = new Set();
const scratch = mkdtempSync(join(tmpdir(), 'flowgate-scaling-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}
const tcpOpen = (port) =>
  new Promise((r) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), r(true)));
    socket.once('error', () => r(false));
  });

/** Spawns a process and resolves once `port` accepts connections (or `ready` shows on stdout/stderr). */
async function start(command, args, port, ready) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const seen = new Promise((r) => {
    const onData = (chunk) => {
      output += chunk;
      if (ready?.test(output)) r();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  if (ready) await seen;
  else while (!(await tcpOpen(port))) await sleep(30);
  return { child, output: () => output };
}
async function stop(proc) {
  children.delete(proc.child);
  if (proc.child.exitCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  await exited;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function runLoad(options) {
  return new Promise((resolveLoad, reject) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, 'load.mjs'), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('close', (code) => {
      const result = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.event === 'result');
      return code === 0 && result ? resolveLoad(result) : reject(new Error(`load failed (${code})`));
    });
  });
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// ------------------------------------------------------------------------------ 1 worker against 2
const standinPort = await freePort();
const standin = await start(process.execPath, [join(BENCH_DIR, 'standin.mjs'), '--port', String(standinPort)], standinPort);
const configFile = join(scratch, 'flowgate.json');
writeFileSync(
  configFile,
  JSON.stringify({
    upstream: { endpoint: `http://127.0.0.1:${standinPort}`, credentials: { accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' } },
    server: { host: '127.0.0.1', accessLog: false },
    flows: { bench: { flowName: 'bench_flow', access: 'public' } },
  }),
);
const rps = { 1: [], 2: [] };
for (let run = 0; run < runs; run++) {
  for (const workers of [1, 2]) {
    const port = await freePort();
    const gateway = await start(
      process.execPath,
      [join(DIST, 'node.js'), 'serve', '--config', configFile, '--port', String(port), '--host', '127.0.0.1', '--workers', String(workers)],
      port,
      /listening on/,
    );
    const result = await runLoad({
      url: `http://127.0.0.1:${port}/flows/bench/run`,
      body: '{"orderId":"A-1"}',
      headers: { 'content-type': 'application/json' },
      connections: Number(flags.connections),
      duration: Number(flags.duration),
      warmup: 2,
    });
    if (result.non2xx || result.errors) throw new Error(`workers ${workers}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    rps[workers].push(result.rps);
    await stop(gateway);
  }
}
await stop(standin);

// ------------------------------------------------------------------------------ limiter: Redis vs Cluster
const load = (path) => import(pathToFileURL(resolve(DIST, path)).href);
const { connectRedis } = await load('platform/node/redis.js');
const { redisRateLimitStore } = await load('ratelimit/stores/redis.node.js');

async function redisServer(extra = []) {
  const port = await freePort();
  const dir = join(scratch, String(port));
  mkdirSync(dir);
  await start(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    port,
    /Ready to accept connections/,
  );
  return port;
}
const single = await redisServer();
const clusterPorts = [];
for (let i = 0; i < 3; i++)
  clusterPorts.push(await redisServer(['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-node-timeout', '2000']));
await promisify(execFile)('redis-cli', ['--cluster', 'create', ...clusterPorts.map((p) => `127.0.0.1:${p}`), '--cluster-yes']);
for (;;) {
  const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(clusterPorts[0]), 'cluster', 'info']);
  if (stdout.includes('cluster_state:ok')) break;
  await sleep(100);
}

const prefix = `bench:${randomUUID()}:`;
function policies(caller, now) {
  const day = Math.floor(now / 86_400_000);
  return [
    { kind: 'gcra', name: 'caller', key: `${prefix}rl:{${caller}}:caller`, intervalMs: 1, burst: 1e9 },
    { kind: 'window', name: 'quota', key: `${prefix}rl:{${caller}}:caller:q:${day}`, limit: 1e9, windowMs: 86_400_000, windowEnd: (day + 1) * 86_400_000 },
    { kind: 'gcra', name: 'flow', key: `${prefix}rl:{${caller}}:flow:bench`, intervalMs: 1, burst: 1e9 },
  ];
}
async function limiterCost(target) {
  const connection = connectRedis(target, { timeoutMs: 10_000, log: () => {} });
  await connection.ready();
  const store = redisRateLimitStore(connection.redis, { ready: connection.ready, timeoutMs: 10_000 });
  const count = Number(flags.decisions);
  let started = performance.now();
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    const result = await store.check(policies(`c${i % 1000}`, now), now);
    if (!result.ok) throw new Error(`${result.error} ${result.detail ?? ''}`);
  }
  const sequential = ((performance.now() - started) * 1000) / count;
  started = performance.now();
  const inFlight = 5_000;
  const results = await Promise.all(Array.from({ length: inFlight }, (_, i) => store.check(policies(`p${i % 1000}`, Date.now()), Date.now())));
  if (results.some((r) => !r.ok)) throw new Error('a decision failed under concurrency');
  const concurrent = ((performance.now() - started) * 1000) / inFlight;
  await connection.close();
  return { sequential, concurrent };
}
const cost = { redis: [], cluster: [] };
for (let run = 0; run < runs; run++) {
  cost.redis.push(await limiterCost(`redis://127.0.0.1:${single}`));
  cost.cluster.push(await limiterCost({ kind: 'cluster', nodes: clusterPorts.map((port) => ({ host: '127.0.0.1', port })) }));
}

// ------------------------------------------------------------------------------ report
const m = (list, key) => median(list.map((x) => x[key]));
const lines = [
  `machine: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (shared: other work runs beside this)`,
  `req/s, flowgate serve, memory store, ${flags.connections} connections, median of ${runs} interleaved runs:`,
  `  --workers 1: ${Math.round(median(rps[1]))} req/s   (runs: ${rps[1].map(Math.round).join(', ')})`,
  `  --workers 2: ${Math.round(median(rps[2]))} req/s   (runs: ${rps[2].map(Math.round).join(', ')})   ratio ${(median(rps[2]) / median(rps[1])).toFixed(2)}`,
  `limiter, 3 policies, µs per decision (median of ${runs}):`,
  `  one Redis:        sequential ${m(cost.redis, 'sequential').toFixed(1)}, 5000 in flight ${m(cost.redis, 'concurrent').toFixed(1)}`,
  `  3-master cluster: sequential ${m(cost.cluster, 'sequential').toFixed(1)}, 5000 in flight ${m(cost.cluster, 'concurrent').toFixed(1)}   ratio ${(m(cost.cluster, 'sequential') / m(cost.redis, 'sequential')).toFixed(2)} / ${(m(cost.cluster, 'concurrent') / m(cost.redis, 'concurrent')).toFixed(2)}`,
];
console.log(lines.join('\n'));
process.exit(0);
