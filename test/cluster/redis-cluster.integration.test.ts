import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { buildGateway, startGatewayProcess, type GatewayProcess } from '../helpers/separate-process.js';
import { startRedisCluster, type LocalRedisCluster } from '../helpers/redis-cluster.js';
import { monitorRedis, type RedisCommand } from '../helpers/redis-monitor.js';

const KEY = 'mobile-key-0123456789abcdef';
const ADMIN_KEY = 'ops-key-0123456789abcdef00';

/**
 * Three gateway processes (compiled from src/) on a real three-master Redis Cluster this file starts:
 * limits stay exact, a cached answer and an Idempotency-Key answer are seen by every process, and no
 * command of any of it is refused for spanning slots (each node's `INFO errorstats` counts CROSSSLOT).
 */
describe('three gateway processes on a Redis Cluster', () => {
  const prefix = `test:${randomUUID()}:`;
  let cluster: LocalRedisCluster;
  let stub: UpstreamStub;
  let build: Awaited<ReturnType<typeof buildGateway>>;
  let gateways: GatewayProcess[] = [];

  const post = async (gateway: GatewayProcess, flow: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.url}/flows/${flow}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...headers },
      body,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  beforeAll(async () => {
    [cluster, stub, build] = await Promise.all([startRedisCluster({ masters: 3 }), startUpstreamStub(), buildGateway()]);
    stub.respond((call) => succeeded({ input: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call));
    const config = {
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '10s' },
      server: { accessLog: false },
      store: cluster.url,
      // Generous: this is about exactness, and 150 requests land at once on a small shared machine.
      storeOptions: { keyPrefix: prefix, timeout: '5s', onError: 'closed' },
      callers: {
        'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '1/h', burst: 1000, quota: '100000/d' } },
        ops: { apiKeys: [ADMIN_KEY], admin: true },
      },
      flows: {
        // Caller rate, caller quota, flow rate and flow quota: four keys in one script run.
        hello: { rateLimit: { rate: '1/h', burst: 30, quota: '100000/d' } },
        quote: { cache: { ttl: '60s' } },
        order: { idempotency: { ttl: '1h', required: true } },
      },
    };
    gateways = await Promise.all([0, 1, 2].map(() => startGatewayProcess(build.dir, config)));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await stub?.close();
    build?.remove();
    await cluster?.stop();
  });

  it('spreads slots over three masters, and the three gateways are separate processes', async () => {
    expect(new Set(gateways.map((g) => g.pid)).size).toBe(3);
    const masters = await Promise.all(['{a}', '{b}', '{c}', '{d}', '{e}', '{f}'].map((tag) => cluster.masterOf(tag)));
    expect(new Set(masters.map((m) => m.port)).size).toBeGreaterThan(1);
  });

  it('admits exactly 30 of 150 concurrent requests across the three processes', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => post(gateways[i % 3]!, 'hello', `{"i":${i}}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(120);
    expect(stub.calls.filter((c) => c.form.FlowName === 'hello')).toHaveLength(30);
    // Each flow-limit count from 29 down to 0 was handed out once, whichever process asked.
    const remaining = answers
      .filter((a) => a.status === 200)
      .map((a) => Number(/"flow";r=(\d+)/.exec(a.headers.get('ratelimit')!)![1]))
      .sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('serves from the cache in process 2 what process 1 stored after a miss', async () => {
    // MONITOR on the master of the flow's slot: the deferred entry write is the event to wait on.
    const master = await cluster.masterOf(`${prefix}cache:{quote}:x`);
    const monitor = await monitorRedis(`redis://127.0.0.1:${master.port}`);
    try {
      const entryWrite = ([name, key]: RedisCommand) => name === 'set' && key!.startsWith(`${prefix}cache:{quote}:`);
      const miss = await post(gateways[0]!, 'quote', '{"sku":"a-1"}');
      expect(miss.status).toBe(200);
      expect(miss.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
      await monitor.keyHit(entryWrite, 1);
      const hit = await post(gateways[1]!, 'quote', '{ "sku": "a-1" }');
      expect(hit.headers.get('cache-status')).toBe('flowgate; hit; ttl=60');
      expect(hit.text).toBe(miss.text);
      expect(stub.calls.filter((c) => c.form.FlowName === 'quote')).toHaveLength(1);
      // The entry sits with its generation: both were read from one node in one MGET.
      expect(
        monitor.commands.some(
          ([name, generation, entry]) => name === 'mget' && generation === `${prefix}cache-gen:{quote}` && entry!.startsWith(`${prefix}cache:{quote}:`),
        ),
      ).toBe(true);
    } finally {
      monitor.close();
    }
  });

  it('replays an Idempotency-Key answer in another process', async () => {
    const key = randomUUID();
    const first = await post(gateways[0]!, 'order', '{"qty":2}', { 'idempotency-key': key });
    expect(first.status).toBe(200);
    const again = await post(gateways[2]!, 'order', '{"qty":2}', { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    const changed = await post(gateways[1]!, 'order', '{"qty":3}', { 'idempotency-key': key });
    expect(changed.status).toBe(422);
    expect(stub.calls.filter((c) => c.form.FlowName === 'order')).toHaveLength(1);
  });

  it('purges a flow from another process, and no command anywhere was refused for crossing slots', async () => {
    const purge = await fetch(`${gateways[2]!.url}/flows/quote/cache`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(purge.status).toBeLessThan(300);
    const after = await post(gateways[0]!, 'quote', '{"sku":"a-1"}');
    expect(after.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(stub.calls.filter((c) => c.form.FlowName === 'quote')).toHaveLength(2);
    expect(await cluster.errorCount('CROSSSLOT')).toBe(0);
    for (const g of gateways) expect(JSON.stringify(g.logs)).not.toMatch(/CROSSSLOT|store failed|redis connection error/);
  });
});
