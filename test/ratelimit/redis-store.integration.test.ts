import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Counters } from '../../src/lib/counters.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { startDedicatedRedis, type DedicatedRedis } from '../helpers/redis-server.js';

const KEY = 'mobile-key-0123456789abcdef';
const STORE_TIMEOUT = 200;
/** "Never hangs": an answer within the store deadline plus generous scheduling slack. */
const DEADLINE = STORE_TIMEOUT + 1_500;

function config(upstream: string, store: string, onError: 'open' | 'closed') {
  return {
    upstream: { endpoint: upstream, credentials: TEST_CREDENTIALS, timeout: '2s' },
    store,
    storeOptions: { timeout: STORE_TIMEOUT, onError, keyPrefix: `test:${randomUUID()}:` },
    callers: { 'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '1/h', burst: 2 } } },
    flows: { hello: {} },
  };
}

async function timedPost(gw: InProcessGateway) {
  const started = performance.now();
  const res = await gw.fetch(`${gw.url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: '{}' });
  const json = (await res.json()) as Record<string, unknown>;
  return { res, json, ms: performance.now() - started };
}

describe('a Redis store that is not there at all', () => {
  let stub: UpstreamStub;
  beforeAll(async () => {
    stub = inProcessUpstream();
  });
  afterAll(async () => {
    await stub.close();
  });

  it('fail-open serves without limits, promptly, and says so in the log and counters', async () => {
    const counters: Counters = {};
    const gw = inProcessGateway(config(stub.url, 'redis://127.0.0.1:1', 'open'), { counters });
    try {
      for (let i = 0; i < 4; i++) {
        const { res, ms } = await timedPost(gw);
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit')).toBeNull();
        expect(ms).toBeLessThan(DEADLINE);
      }
      expect(counters).toMatchObject({ 'ratelimit.store_errors': 4, 'ratelimit.failed_open': 4 });
      expect(gw.logs.filter((l) => l.path === '/flows/hello/run').every((l) => l.rateLimitStore === 'unavailable')).toBe(true);
      expect(gw.logs.some((l) => l.level === 'warn' && String(l.msg).includes('failing open'))).toBe(true);
      const ready = await gw.fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks.redis?.ok).toBe(false);
    } finally {
      await gw.close();
    }
  });

  it('fail-closed answers 503 ServiceUnavailable, promptly, and never calls the upstream', async () => {
    const before = stub.calls.length;
    const gw = inProcessGateway(config(stub.url, 'redis://127.0.0.1:1', 'closed'));
    try {
      for (let i = 0; i < 4; i++) {
        const { res, json, ms } = await timedPost(gw);
        expect(res.status).toBe(503);
        expect(json.Code).toBe('ServiceUnavailable');
        expect(res.headers.get('retry-after')).toBe('1');
        expect(ms).toBeLessThan(DEADLINE);
      }
      expect(stub.calls.length).toBe(before);
    } finally {
      await gw.close();
    }
  });
});

describe('a dedicated redis-server stopped mid-test', () => {
  let stub: UpstreamStub;
  let redis: DedicatedRedis;
  let open: InProcessGateway;
  let closed: InProcessGateway;

  beforeAll(async () => {
    stub = inProcessUpstream();
    redis = await startDedicatedRedis();
    open = inProcessGateway(config(stub.url, redis.url, 'open'));
    closed = inProcessGateway(config(stub.url, redis.url, 'closed'));
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
    await redis.stop();
    await stub.close();
  });

  it('limits through Redis while it runs, and survives a flushed script cache (NOSCRIPT → EVAL)', async () => {
    const admin = new Redis(redis.port, '127.0.0.1');
    /** How often the script body was sent (an EVAL rather than an EVALSHA), by the server's own command statistics. */
    const scriptLoads = async () => Number(/^cmdstat_eval:calls=(\d+)/m.exec(await admin.info('commandstats'))?.[1] ?? 0);
    try {
      expect((await timedPost(open)).res.headers.get('ratelimit')).toBe('"caller";r=1;t=3600');
      expect(await scriptLoads()).toBe(1); // a fresh server has never seen the script
      await admin.script('FLUSH');
      const second = await timedPost(open);
      expect(second.res.status).toBe(200);
      expect(second.res.headers.get('ratelimit')).toBe('"caller";r=0;t=7200');
      expect(await scriptLoads()).toBe(2);
      const third = await timedPost(open);
      expect(third.res.status).toBe(429);
      expect(await scriptLoads()).toBe(2); // back on EVALSHA
    } finally {
      admin.disconnect();
    }
    expect((await open.fetch(`${open.url}/readyz`)).status).toBe(200);
  });

  it('after the server dies, fail-open keeps serving and fail-closed answers 503, neither past the deadline', async () => {
    await redis.kill();
    const [opened, refused] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => timedPost(open))),
      Promise.all(Array.from({ length: 10 }, () => timedPost(closed))),
    ]);
    for (const { res, ms } of opened) {
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(DEADLINE);
    }
    for (const { res, json, ms } of refused) {
      expect(res.status).toBe(503);
      expect(json.Code).toBe('ServiceUnavailable');
      expect(ms).toBeLessThan(DEADLINE);
    }
    expect((await open.fetch(`${open.url}/readyz`)).status).toBe(503);
  });

  it('limits again once Redis is back', async () => {
    await redis.restart();
    // The client reconnects on its own back-off (at most 2 s between attempts) and says so with 'ready'.
    const client = closed.runtime.redis!.redis;
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const answer = await timedPost(closed);
    expect(answer.res.status).toBe(200);
    expect(answer.res.headers.get('ratelimit')).toBe('"caller";r=1;t=3600'); // the new server starts empty
  });
});
