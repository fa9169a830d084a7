import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type InProcessUpstream } from '../helpers/upstream-stub.js';
import { startRedisSentinel, waitForLine, type LocalSentinelSetup } from '../helpers/redis-cluster.js';

const KEY = 'mobile-key-0123456789abcdef';

/**
 * A primary, a replica and a Sentinel this file starts (`redis-server --sentinel`); the gateway finds the
 * primary through Sentinel, keeps its counters there, fails closed while the primary is gone, and follows
 * Sentinel to the promoted replica, where the replicated counters still hold.
 */
describe('store on Redis Sentinel', () => {
  const prefix = `test:${randomUUID()}:`;
  let setup: LocalSentinelSetup;
  let upstream: InProcessUpstream;
  let gateway: InProcessGateway;
  const run = () => gateway.send('/flows/hello/run', { body: '{}', headers: { 'x-api-key': KEY } });

  beforeAll(async () => {
    setup = await startRedisSentinel({ sentinels: 1, downAfterMs: 1_000 });
    upstream = inProcessUpstream();
    gateway = inProcessGateway({
      upstream: { endpoint: upstream.url, credentials: TEST_CREDENTIALS },
      store: setup.url,
      // Generous: the first call on the promoted primary reloads the script, on a machine that may be busy.
      storeOptions: { keyPrefix: prefix, timeout: '10s', onError: 'closed' },
      callers: { 'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '1/h', burst: 5 } } },
      flows: { hello: {} },
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await setup?.stop();
  });

  it('keeps exact counters on the primary Sentinel names, replicated to the replica', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await run()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const key = `${prefix}rl:{mobile-app}:caller`;
    expect(await setup.client(setup.master.port).exists(key)).toBe(1);
    const replica = setup.client(setup.replica.port);
    // Replication is asynchronous: WAIT returns once the replica has acknowledged every write so far.
    expect(Number(await setup.client(setup.master.port).call('WAIT', '1', '5000'))).toBe(1);
    expect(await replica.exists(key)).toBe(1);
    expect((await gateway.send('/readyz')).status).toBe(200);
  });

  it('answers 503 while the primary is gone, reports it at /readyz, and follows Sentinel to the promoted replica', async () => {
    const client = gateway.runtime.redis!.redis;
    // Plain listeners: the client also emits 'error' while it looks for a primary, which events.once would reject on.
    const lost = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await setup.master.kill();
    await lost;
    const during = await run();
    expect(during.status).toBe(503);
    expect(during.json).toMatchObject({ Code: 'ServiceUnavailable' });
    const ready = await gateway.send('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.json)).toContain('redis');

    await waitForLine(setup.sentinels[0]!, /\+switch-master /);
    if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    expect((await gateway.send('/readyz')).status).toBe(200);
    // The promoted replica holds the counters: the caller is still out of burst.
    let after = await run();
    // A 503 answered just before a reconnect finished may find the client ready again: a few retries cover that.
    for (let readyRetries = 3; after.status === 503 && (client.status !== 'ready' || readyRetries-- > 0);) {
      if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
      after = await run();
    }
    expect(after.status, JSON.stringify(gateway.logs.slice(-3))).toBe(429);
    expect(after.headers.get('ratelimit')).toMatch(/^"caller";r=0;t=\d+$/);
    expect(JSON.stringify(gateway.logs)).not.toContain(setup.url);
    // Sentinel retries a failover that did not finish after 2 × failover-timeout (10 s): room for that on a busy machine.
  }, 90_000);
});
