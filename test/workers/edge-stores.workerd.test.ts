/**
 * The Workers stores in the real workerd runtime: the response cache in the Cache API, and delivery,
 * Idempotency-Key and `ack` records in the `RECORDS` Durable Object, shared by two isolates.
 */
import { randomUUID } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gate } from '../helpers/gate.js';
import { until } from '../helpers/until.js';
import { startUpstreamStub, succeeded, upstreamError, TEST_CREDENTIALS, type ReceivedCall, type UpstreamStub } from '../helpers/upstream-stub.js';
import { githubHeaders } from '../webhooks/support.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { answerOf } from '../helpers/post.js';
import { postJson, send, type Answer } from './helpers/http.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';

const APP_KEY = 'edge-app-key-0123456789abcdef';
const ADMIN_KEY = 'edge-admin-key-0123456789abcd';
const GH_SECRET = 'edge-github-hook-secret';
const SECRETS = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
  APP_API_KEY: APP_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  GH_SECRET,
};

function gatewayConfig(upstreamUrl: string) {
  return {
    upstream: { endpoint: upstreamUrl, timeout: '5s' },
    callers: { app: { apiKeys: ['${APP_API_KEY}'] }, ops: { apiKeys: ['${ADMIN_API_KEY}'], admin: true } },
    flows: {
      quote: { access: 'public', cache: { ttl: '60s', scope: 'shared' } },
      orders: { access: ['app'], idempotency: { ttl: '1h' } },
      github: { webhook: { provider: 'github', secrets: ['${GH_SECRET}'] } },
      report: { access: ['app'], mode: 'ack' },
    },
  };
}

/** Echoes the Input with the number of calls so far, so a test tells a fresh run from a stored one. */
const echo = (stub: UpstreamStub) => (call: ReceivedCall) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call);
const callsWith = (stub: UpstreamStub, marker: string) => stub.calls.filter((call) => call.form.Input?.includes(marker)).length;

let build: WorkerBuild;
let stub: UpstreamStub;

beforeAll(async () => {
  [build, stub] = await Promise.all([buildWorker(), startUpstreamStub()]);
  stub.respond(echo(stub));
}, 90_000);

afterAll(async () => {
  await stub?.close();
  await build?.remove();
});

afterEach(() => stub.respond(echo(stub)));

describe('the response cache in the Cache API (RECORDS bound: generations in the Durable Object)', () => {
  let edge: WorkerdGateway;
  const quote = (body: string, headers: Record<string, string> = {}) => postJson(`${edge.url}/flows/quote/run`, body, headers);
  /** The first answer is the miss; the write lands through waitUntil, so the hit is awaited. */
  const storedHit = async (body: string) => {
    let hit: Answer | undefined;
    await until(async () => (hit = await quote(body)).headers.get('cache-status')?.startsWith('flowgate; hit') === true);
    return hit!;
  };

  beforeAll(async () => {
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(gatewayConfig(stub.url)), ...SECRETS });
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
  });

  it('a miss is stored, then served from the Cache API with Cache-Status and Age, without calling upstream', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    const miss = await quote(body);
    expect(miss.status).toBe(200);
    expect(miss.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(miss.headers.get('age')).toBeNull();
    const hit = await storedHit(body);
    expect(hit.status).toBe(200);
    expect(hit.text).toBe(miss.text);
    expect(hit.headers.get('cache-status')).toMatch(/^flowgate; hit; ttl=(59|60)$/);
    expect(Number(hit.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(Number(hit.headers.get('age'))).toBeLessThanOrEqual(5);
    expect(hit.headers.get('x-execution-name')).toBe(miss.headers.get('x-execution-name'));
    expect(callsWith(stub, marker)).toBe(1);
    expect(edge.logs().find((l) => l.msg === 'gateway ready')).toMatchObject({ records: 'durable-object', cache: 'cache-api, purge worldwide' });
  });

  it('Cache-Control: no-store bypasses the cache both ways', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    const first = await quote(body);
    await storedHit(body);
    const bypass = await quote(body, { 'cache-control': 'no-store' });
    expect(bypass.headers.get('cache-status')).toBe('flowgate; fwd=bypass');
    expect(bypass.text).not.toBe(first.text);
    expect(callsWith(stub, marker)).toBe(2);
    // The bypassed run did not replace the stored entry.
    expect((await quote(body)).text).toBe(first.text);
  });

  it('never caches a failure: the next identical request goes upstream again', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    stub.respond(() => upstreamError(500, 'InternalError'));
    const failed = await quote(body);
    expect(failed.status).toBe(502);
    expect(failed.headers.get('cache-status')).toBe('flowgate; fwd=miss');
    stub.respond(echo(stub));
    const next = await quote(body);
    expect(next.status).toBe(200);
    expect(next.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(callsWith(stub, marker)).toBe(2);
  });

  it('an admin purge makes the next request a miss; other callers may not purge', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    const first = await quote(body);
    await storedHit(body);
    const refused = await send(`${edge.url}/flows/quote/cache`, { method: 'DELETE', headers: { 'x-api-key': APP_KEY } });
    expect(refused.status).toBe(403);
    expect((await quote(body)).headers.get('cache-status')).toMatch(/^flowgate; hit/);
    const purged = await send(`${edge.url}/flows/quote/cache`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(purged.status).toBe(200);
    expect(purged.json).toMatchObject({ Flow: 'quote', Purged: true });
    const after = await quote(body);
    expect(after.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(after.text).not.toBe(first.text);
    expect(callsWith(stub, marker)).toBe(2);
    // The generation moved in the Durable Object, where nothing evicts it.
    const generationKey = 'cache-gen:quote';
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(generationKey))).toString('hex');
    const object = edge.probe.durableObject<{ get(key: string): Promise<string | undefined> }>('RECORDS', digest);
    expect(Number(await object.get(generationKey))).toBeGreaterThan(Date.now() - 60_000);
  });

  it('two concurrent identical misses make one upstream call; the second is collapsed', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    // Nothing outside workerd shows when the second request has joined the first one's run, so the run
    // takes a while in real time: long enough for a request sent at the same moment to join it.
    stub.respond(async (call) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return echo(stub)(call);
    });
    const [a, b] = await Promise.all([quote(body), quote(body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.text).toBe(b.text);
    expect([a.headers.get('cache-status'), b.headers.get('cache-status')].sort()).toEqual(['flowgate; fwd=miss; collapsed', 'flowgate; fwd=miss; stored']);
    expect(callsWith(stub, marker)).toBe(1);
  });
});

describe('the Cache API generation without the RECORDS binding', () => {
  let edge: WorkerdGateway;
  const quote = (body: string) => postJson(`${edge.url}/flows/quote/run`, body);

  beforeAll(async () => {
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(gatewayConfig(stub.url)), ...SECRETS }, { records: false });
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
  });

  it('warns once that records are per isolate and purges per data center', async () => {
    // The gateway is built (and says so) on an isolate's first request.
    await send(`${edge.url}/healthz`);
    await send(`${edge.url}/healthz`);
    const ready = edge.logs().filter((l) => l.msg === 'gateway ready');
    expect(ready).toHaveLength(1);
    expect(ready[0]).toMatchObject({
      level: 'warn',
      records: 'per-isolate (no RECORDS binding)',
      cache: 'cache-api, purge per data center (no RECORDS binding)',
    });
  });

  it('an evicted generation never brings purged entries back', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ marker });
    const before = await quote(body);
    await until(async () => (await quote(body)).headers.get('cache-status')?.startsWith('flowgate; hit') === true);
    const purged = await send(`${edge.url}/flows/quote/cache`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(purged.json).toMatchObject({ Purged: true });
    // The Cache API may evict anything; here the generation entry goes.
    expect(await edge.probe.deleteCached('flowgate', 'https://flowgate.cache/quote/generation')).toBe(true);
    const after = await quote(body);
    expect(after.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(after.text).not.toBe(before.text);
    // The generation started afresh is stable: the new entry is served.
    await until(async () => (await quote(body)).headers.get('cache-status')?.startsWith('flowgate; hit') === true);
    expect(callsWith(stub, marker)).toBe(2);
  });
});

describe('records in the Durable Object, shared by two isolates', () => {
  let edge: WorkerdGateway;
  const orders = (body: string, key: string) => postJson(`${edge.url}/flows/orders/run`, body, { 'x-api-key': APP_KEY, 'idempotency-key': key });
  const ordersOnSecond = async (body: string, key: string) =>
    answerOf(
      await edge.second('/flows/orders/run', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-api-key': APP_KEY, 'idempotency-key': key },
      }),
    );

  beforeAll(async () => {
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(gatewayConfig(stub.url)), ...SECRETS }, { isolates: 2 });
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
  });

  it('Idempotency-Key: a retry on another isolate replays the stored answer; the flow ran once', async () => {
    const marker = randomUUID();
    const key = randomUUID();
    const body = JSON.stringify({ marker });
    const first = await orders(body, key);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await ordersOnSecond(body, key);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('x-execution-name')).toBe(first.headers.get('x-execution-name'));
    expect(callsWith(stub, marker)).toBe(1);
    expect(edge.logs().filter((l) => l.msg === 'gateway ready')).toHaveLength(2);
    expect(
      edge
        .logs()
        .filter((l) => l.msg === 'gateway ready')
        .every((l) => l.records === 'durable-object'),
    ).toBe(true);
  });

  it('Idempotency-Key: a retry while the first is in flight gets 409 on either isolate, then the replay', async () => {
    const marker = randomUUID();
    const key = randomUUID();
    const body = JSON.stringify({ marker });
    // The first runs until both retries have been answered.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return echo(stub)(call);
    });
    const first = orders(body, key);
    await stub.received(stub.calls.length + 1);
    const [here, there] = await Promise.all([orders(body, key), ordersOnSecond(body, key)]);
    for (const conflict of [here, there]) {
      expect(conflict.status).toBe(409);
      expect(conflict.json).toMatchObject({ Code: 'Conflict' });
      expect(conflict.headers.get('retry-after')).toBe('1');
    }
    upstream.open();
    expect((await first).status).toBe(200);
    expect((await ordersOnSecond(body, key)).headers.get('idempotent-replayed')).toBe('true');
    expect(callsWith(stub, marker)).toBe(1);
  });

  it('a GitHub delivery redelivered to another isolate runs one execution', async () => {
    const marker = randomUUID();
    const body = JSON.stringify({ ref: 'refs/heads/main', marker });
    const headers = githubHeaders(await octokitSign(GH_SECRET, body), randomUUID());
    headers.set('content-type', 'application/json');
    const first = await send(`${edge.url}/flows/github/run`, { method: 'POST', body, headers });
    expect(first.status).toBe(200);
    const redelivered = await answerOf(await edge.second('/flows/github/run', { method: 'POST', body, headers }));
    expect(redelivered.status).toBe(200);
    expect(redelivered.text).toBe(first.text);
    expect(callsWith(stub, marker)).toBe(1);
    // A forged signature is refused before any record is touched.
    const forged = githubHeaders('sha256=' + '0'.repeat(64), randomUUID());
    forged.set('content-type', 'application/json');
    expect((await send(`${edge.url}/flows/github/run`, { method: 'POST', body, headers: forged })).status).toBe(401);
    expect(callsWith(stub, marker)).toBe(1);
  });

  it('ack mode: 202 at once, the run finishes through waitUntil, and either isolate reports the outcome', async () => {
    const marker = randomUUID();
    // The run goes on until the execution has been seen Running.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ report: 'done', input: JSON.parse(call.form.Input ?? '{}') }, call);
    });
    // 202 while the upstream is still held: the answer did not wait for the run.
    const accepted = await postJson(`${edge.url}/flows/report/run`, JSON.stringify({ marker }), { 'x-api-key': APP_KEY });
    expect(accepted.status).toBe(202);
    const name = accepted.json!.ExecutionName as string;
    expect(accepted.headers.get('location')).toBe(`/executions/${name}`);
    const status = async () => answerOf(await edge.second(`/executions/${name}`, { headers: { 'x-api-key': APP_KEY } }));
    expect((await status()).json).toMatchObject({ ExecutionName: name, Flow: 'report', Status: 'Running' });
    upstream.open();
    await until(async () => (await status()).json?.Status !== 'Running');
    const done = await status();
    expect(done.json).toMatchObject({ Status: 'Succeeded', Result: { StatusCode: 200, Body: { report: 'done', input: { marker } } } });
    expect(done.json!.UpstreamExecutionName).toMatch(new RegExp(`^${name}:`));
    expect(callsWith(stub, marker)).toBe(1);
    // Another caller cannot read it.
    const other = await send(`${edge.url}/executions/${name}`);
    expect(other.status).toBe(404);
  });
});

describe('the FlowgateRecords object', () => {
  let edge: WorkerdGateway;
  type Records = {
    claim(key: string, value: string, leaseMs: number): Promise<string | undefined>;
    complete(key: string, token: string, value: string, ttlMs: number): Promise<boolean>;
    release(key: string, token: string): Promise<void>;
    get(key: string): Promise<string | undefined>;
    advance(key: string, floor: number): Promise<number>;
  };
  // Over HTTP through the probe Worker, not Miniflare's binding proxy (cloudflare/workers-sdk#15552).
  const objectFor = async (name: string) => edge.probe.durableObject<Records>('RECORDS', name);
  const claimValue = (token: string) => JSON.stringify({ state: 'in-flight', token });

  beforeAll(async () => {
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(gatewayConfig(stub.url)), ...SECRETS });
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
  });

  it('exactly one of 30 concurrent claims wins; the others see the winner', async () => {
    const records = await objectFor('claims');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => records.claim('k', claimValue(`t${i}`), 60_000)));
    const winners = answers.flatMap((a, i) => (a === undefined ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(new Set(answers.filter((a) => a !== undefined))).toEqual(new Set([claimValue(`t${winners[0]}`)]));
  });

  it('complete and release act only for the claim token; leases expire', async () => {
    const records = await objectFor('tokens');
    expect(await records.claim('k', claimValue('mine'), 60_000)).toBeUndefined();
    expect(await records.complete('k', 'theirs', 'done', 60_000)).toBe(false);
    await records.release('k', 'theirs');
    expect(await records.get('k')).toBe(claimValue('mine'));
    expect(await records.complete('k', 'mine', 'done', 60_000)).toBe(true);
    expect(await records.get('k')).toBe('done');
    expect(await records.claim('short', claimValue('x'), 50)).toBeUndefined();
    await until(async () => (await records.get('short')) === undefined, 2_000);
    expect(await records.claim('short', claimValue('y'), 60_000)).toBeUndefined();
  });

  it('advance only moves forward, and refuses malformed input', async () => {
    const records = await objectFor('generations');
    const first = await records.advance('g', 1_000);
    expect(first).toBe(1_000);
    expect(await records.advance('g', 10)).toBe(1_001);
    expect(await records.advance('g', 5_000)).toBe(5_000);
    await expect(records.claim('', 'v', 1000)).rejects.toThrow();
    await expect(records.claim('k2', 'v', 0)).rejects.toThrow();
    await expect(records.advance('g', -1)).rejects.toThrow();
    expect(await records.get('k2')).toBeUndefined();
  });
});
