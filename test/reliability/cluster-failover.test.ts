import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS } from '../helpers/upstream-stub.js';
import { startRedisCluster, type LocalRedisCluster } from '../helpers/redis-cluster.js';

const KEY = 'mobile-key-0123456789abcdef';
// Generous for a busy machine: after recovery every decision must come from the store, never from a timeout.
const STORE_TIMEOUT_MS = 2_000;

interface Sample {
  /** When the request was sent, and when its answer came (epoch ms). */
  start: number;
  at: number;
  status: number;
  ms: number;
  /** The limiter decided (a RateLimit field is only sent when the store answered). */
  decided: boolean;
}

/**
 * Load against two gateways on a six-node Redis Cluster (three masters, a replica each) this file starts,
 * one failing open and one failing closed, while the master holding the caller's slot is killed. Every
 * request is answered, within a bound tied to `storeOptions.timeout`, as its `onError` says; `/readyz`
 * reports the loss; both recover once the cluster promotes the replica. The timings are printed (see
 * docs/scaling.md); the only bounds asserted are generous ones derived from the config.
 */
describe('failover of the master holding a caller slot, under load', () => {
  const prefix = `test:${randomUUID()}:`;
  let cluster: LocalRedisCluster;
  const gateways: Record<'open' | 'closed', InProcessGateway> = {} as never;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1_000 });
    const upstream = inProcessUpstream();
    for (const onError of ['open', 'closed'] as const) {
      gateways[onError] = inProcessGateway({
        upstream: { endpoint: upstream.url, credentials: TEST_CREDENTIALS },
        server: { accessLog: false },
        store: cluster.url,
        storeOptions: { keyPrefix: prefix, timeout: `${STORE_TIMEOUT_MS}ms`, onError },
        callers: { 'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '100000/s', burst: 100000 } } },
        flows: { hello: {} },
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((g) => g.close()));
    await cluster?.stop();
  });

  it('answers every request fail-open or 503 fail-closed within the store timeout, reports it, and recovers after promotion', async () => {
    const samples: Record<'open' | 'closed', Sample[]> = { open: [], closed: [] };
    const readiness: Record<'open' | 'closed', { at: number; status: number }[]> = { open: [], closed: [] };
    let sent = 0;
    let stop = false;
    const listeners = new Set<() => void>();
    const changed = () => listeners.forEach((l) => l());
    /** Resolves once `check` holds, checked after every answer: the load itself is the event source. */
    const when = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        if (check()) return resolve();
        const listener = () => check() && (listeners.delete(listener), resolve());
        listeners.add(listener);
      });

    const load = async (name: 'open' | 'closed') => {
      while (!stop) {
        sent++;
        const start = Date.now();
        const started = performance.now();
        const answer = await gateways[name].send('/flows/hello/run', { body: '{}', headers: { 'x-api-key': KEY } });
        samples[name].push({ start, at: Date.now(), status: answer.status, ms: performance.now() - started, decided: answer.headers.has('ratelimit') });
        changed();
      }
    };
    const probe = async (name: 'open' | 'closed') => {
      while (!stop) {
        const answer = await gateways[name].send('/readyz');
        readiness[name].push({ at: Date.now(), status: answer.status });
        changed();
        // A sampling rate for the measurement, not a wait for an event.
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const workers = [...Array.from({ length: 3 }, () => load('open')), ...Array.from({ length: 3 }, () => load('closed')), probe('open'), probe('closed')];
    const decidedSince = (name: 'open' | 'closed', since: number, count: number) =>
      samples[name].filter((s) => s.at >= since && s.decided && s.status === 200).length >= count;

    await when(() => decidedSince('open', 0, 20) && decidedSince('closed', 0, 20));
    const victim = await cluster.masterOf(`${prefix}rl:{mobile-app}:caller`);
    const killedAt = Date.now();
    await victim.kill();

    // The loss shows: fail-open serves undecided, fail-closed answers 503, both report it at /readyz.
    await when(
      () =>
        samples.open.some((s) => s.at >= killedAt && s.status === 200 && !s.decided) &&
        samples.closed.some((s) => s.at >= killedAt && s.status === 503) &&
        readiness.open.some((r) => r.at >= killedAt && r.status === 503) &&
        readiness.closed.some((r) => r.at >= killedAt && r.status === 503),
    );
    const lossSeenAt = Date.now();
    await cluster.healthy(30_000);
    const promotedAt = Date.now();
    // Recovered: the limiter decides again in both, and both report ready.
    const recovered: Record<string, number> = {};
    await when(() => {
      for (const name of ['open', 'closed'] as const) {
        if (recovered[name] !== undefined) continue;
        const decided = samples[name].find((s) => s.at >= promotedAt && s.decided);
        const ready = readiness[name].find((r) => r.at >= promotedAt && r.status === 200);
        if (decided && ready) recovered[name] = Math.max(decided.at, ready.at);
      }
      return recovered.open !== undefined && recovered.closed !== undefined;
    });
    stop = true;
    await Promise.all(workers);

    const all = [...samples.open, ...samples.closed];
    // No request went unanswered, and none waited much past the store deadline.
    expect(all).toHaveLength(sent);
    expect(Math.max(...all.map((s) => s.ms))).toBeLessThan(STORE_TIMEOUT_MS * 10);
    expect(new Set(samples.open.map((s) => s.status))).toEqual(new Set([200]));
    expect([...new Set(samples.closed.map((s) => s.status))].sort()).toEqual([200, 503]);
    // Undecided answers (and 503s) happen only between the kill and the recovery.
    for (const name of ['open', 'closed'] as const) {
      for (const s of samples[name]) if (!s.decided) expect(s.at).toBeGreaterThanOrEqual(killedAt);
    }
    const after = (name: 'open' | 'closed') => samples[name].filter((s) => s.start > recovered[name]!);
    expect(after('open').every((s) => s.decided)).toBe(true);
    expect(after('closed').every((s) => s.status === 200 && s.decided)).toBe(true);
    expect(await cluster.errorCount('CROSSSLOT')).toBe(0);

    const seconds = (ms: number) => (ms / 1000).toFixed(2);
    const count = (list: Sample[], test: (s: Sample) => boolean) => list.filter(test).length;
    console.log(
      [
        `failover (cluster-node-timeout ${cluster.nodeTimeoutMs} ms, storeOptions.timeout ${STORE_TIMEOUT_MS} ms):`,
        `  loss seen ${seconds(lossSeenAt - killedAt)} s after the kill; replica promoted after ${seconds(promotedAt - killedAt)} s`,
        `  recovered: fail-open ${seconds(recovered.open! - killedAt)} s, fail-closed ${seconds(recovered.closed! - killedAt)} s after the kill`,
        `  requests: ${all.length}, all answered; slowest ${Math.round(Math.max(...all.map((s) => s.ms)))} ms`,
        `  fail-open: ${count(samples.open, (s) => !s.decided)} served without the limiter; fail-closed: ${count(samples.closed, (s) => s.status === 503)} answered 503`,
      ].join('\n'),
    );
  }, 120_000);
});
