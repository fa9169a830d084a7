import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inProcessUpstream, startUpstreamStub, succeeded, upstreamError, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { buildGateway, startGatewayProcess, type GatewayProcess } from '../helpers/separate-process.js';
import { inProcessGateway } from '../helpers/in-process.js';
import { gate } from '../helpers/gate.js';
import { monitorRedis, type RedisCommand, type RedisMonitor } from '../helpers/redis-monitor.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const KEY = 'alice-key-0123456789abcdef';
const ADMIN_KEY = 'ops-key-0123456789abcdef00';

/**
 * Two gateway processes (separate `node` processes, compiled from src/) sharing one Redis under a
 * random key prefix: the cache, the purge and the cross-process lock are all seen by both.
 */
describe('response cache shared through Redis by two processes', () => {
  const prefix = `flowgate-test-${randomUUID()}:`;
  let stub: UpstreamStub;
  let build: Awaited<ReturnType<typeof buildGateway>>;
  let one: GatewayProcess;
  let two: GatewayProcess;
  let redis: Redis;
  let monitor: RedisMonitor;
  const callsFor = (marker: string) => stub.calls.filter((c) => (c.form.Input ?? '').includes(marker)).length;
  /** Commands the gateways sent to Redis: cache entry writes, and claims of the cross-process lock. */
  const entryWrite = ([name, key]: RedisCommand) => name === 'set' && key!.startsWith(`${prefix}cache:{quote}:`);
  const lockClaim = ([name, key]: RedisCommand) => name === 'set' && key!.startsWith(`${prefix}cache-lock:{quote}:`);

  const config = (upstreamUrl: string) => ({
    upstream: { endpoint: upstreamUrl, credentials: TEST_CREDENTIALS, timeout: '10s' },
    store: REDIS_URL,
    storeOptions: { keyPrefix: prefix, timeout: '1s' },
    cache: { lockWait: '5s' },
    callers: { alice: { apiKeys: [KEY] }, ops: { apiKeys: [ADMIN_KEY], admin: true } },
    flows: { quote: { cache: { ttl: '60s' } } },
  });

  /**
   * A hit on an entry stored with ttl 60 s. The processes read the real clock, so the remaining ttl depends on
   * how long ago the entry was stored; the two headers must still add up to the entry's lifetime.
   */
  function expectHitOfSixtySeconds(answer: { cacheStatus: string | null; age: string | null }) {
    const ttl = /^flowgate; hit; ttl=(\d+)$/.exec(answer.cacheStatus ?? '');
    expect(ttl, String(answer.cacheStatus)).not.toBeNull();
    expect(Number(ttl![1]) + Number(answer.age)).toBe(60);
  }

  async function post(gw: { url: string }, body: string) {
    const res = await fetch(gw.url + '/flows/quote/run', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body });
    return {
      status: res.status,
      text: await res.text(),
      cacheStatus: res.headers.get('cache-status'),
      age: res.headers.get('age'),
      executionName: res.headers.get('x-execution-name'),
    };
  }

  beforeAll(async () => {
    stub = await startUpstreamStub();
    stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call));
    build = await buildGateway();
    [one, two] = await Promise.all([startGatewayProcess(build.dir, config(stub.url)), startGatewayProcess(build.dir, config(stub.url))]);
    redis = new Redis(REDIS_URL);
    monitor = await monitorRedis(REDIS_URL);
  });
  afterAll(async () => {
    monitor?.close();
    await Promise.all([one?.stop(), two?.stop()]);
    await stub?.close();
    build?.remove();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('runs in two distinct processes', () => {
    expect(one.pid).not.toBe(two.pid);
    expect(one.pid).not.toBe(process.pid);
  });

  it('a miss in the first process is a hit in the second', async () => {
    const written = monitor.keys(entryWrite);
    const miss = await post(one, '{"t":"cross","n":1}');
    expect(miss.status).toBe(200);
    expect(miss.cacheStatus).toBe('flowgate; fwd=miss; stored');
    // The write is deferred past the response: ask the second process once Redis has run it.
    await monitor.keyHit(entryWrite, 1, written);
    const hit = await post(two, '{ "n": 1.0, "t": "cross" }');
    expectHitOfSixtySeconds(hit);
    expect(hit.text).toBe(miss.text);
    expect(hit.executionName).toBe(miss.executionName);
    expect(callsFor('cross')).toBe(1);
    expect(await redis.keys(`${prefix}cache:{quote}:*`)).toHaveLength(1);
  });

  it('concurrent identical misses in both processes make one upstream call: the second process waits on the lock', async () => {
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ locked: true, run: stub.calls.length }, call);
    });
    const claimed = monitor.keys(lockClaim);
    const first = post(one, '{"t":"lock"}');
    await stub.received(stub.calls.length + 1);
    const second = post(two, '{"t":"lock"}');
    // The second process has tried to claim the lock the first one holds: it is waiting on it now.
    await monitor.keyHit(lockClaim, 2, claimed);
    upstream.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(callsFor('lock')).toBe(1);
    expect(a.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(b.cacheStatus).toBe('flowgate; fwd=miss; collapsed');
    expect(b.age).toBe('0');
  });

  it('when the lock holder fails, the waiting process runs for itself instead of waiting out the bound', async () => {
    const upstream = gate();
    stub.respond(async (call) => {
      if (callsFor('holder-fails') === 1) {
        await upstream.opened;
        return upstreamError(503, 'ServiceUnavailable');
      }
      return succeeded({ second: true }, call);
    });
    const claimed = monitor.keys(lockClaim);
    const first = post(one, '{"t":"holder-fails"}');
    await stub.received(stub.calls.length + 1);
    const second = post(two, '{"t":"holder-fails"}');
    const lockKey = await monitor.keyHit(lockClaim, 2, claimed);
    upstream.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(502);
    expect(b.status).toBe(200);
    expect(JSON.parse(b.text)).toEqual({ second: true });
    expect(callsFor('holder-fails')).toBe(2);
    // The second process ran holding the claim it took once the holder let go: its release is the lock's
    // second DEL (the release script's). Past the 5 s lockWait it would have run without a claim, and released none.
    await monitor.until((commands) => commands.filter(([name, key]) => name === 'del' && key === lockKey).length === 2);
  });

  it('a purge in one process is seen by the other', async () => {
    stub.respond((call) => succeeded({ run: stub.calls.length }, call));
    const written = monitor.keys(entryWrite);
    await post(one, '{"t":"purge"}');
    await monitor.keyHit(entryWrite, 1, written);
    expectHitOfSixtySeconds(await post(two, '{"t":"purge"}'));
    const purge = await fetch(one.url + '/flows/quote/cache', { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(purge.status).toBe(200);
    expect((await post(two, '{"t":"purge"}')).cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(callsFor('purge')).toBe(2);
  });
});

describe('response cache with Redis down', () => {
  it('fails open: serves without the cache and logs the store failure', async () => {
    const stub = inProcessUpstream();
    const gw = inProcessGateway({
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
      store: 'redis://127.0.0.1:1',
      storeOptions: { timeout: '100ms' },
      flows: { quote: { cache: { ttl: '60s' } } },
    });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await gw.fetch(gw.url + '/flows/quote/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":"down"}' });
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-status')).toBe('flowgate; fwd=miss');
      }
      expect(stub.calls).toHaveLength(2);
      expect(gw.logs.some((l) => l.msg === 'cache store failed; serving without cache' && l.op === 'get' && l.store === 'redis')).toBe(true);
    } finally {
      await gw.close();
      await stub.close();
    }
  });
});
