/** `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) through the gateway in process, with an injected clock for expiry. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/lib/clock.js';
import type { RecordStore } from '../../src/records/types.js';
import { gate } from '../helpers/gate.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, TEST_CREDENTIALS, upstreamError, type UpstreamStub } from '../helpers/upstream-stub.js';

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef0';
const NOW = Date.UTC(2026, 0, 1);

const config = (stubUrl: string, extra: Record<string, unknown> = {}) => ({
  // Short: two tests wait out an upstream that never answers.
  upstream: { endpoint: stubUrl, credentials: TEST_CREDENTIALS, timeout: '500ms' },
  callers: { alice: { apiKeys: [ALICE] }, bob: { apiKeys: [BOB] } },
  flows: {
    orders: { flowName: 'create_order', idempotency: { ttl: '1h', required: true }, errors: { OutOfStock: 409, NoSuchItem: 404 } },
    refunds: { flowName: 'refund', idempotency: { ttl: '10m' } },
    plain: { flowName: 'plain' },
  },
  ...extra,
});

describe('Idempotency-Key', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW);

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(config(stub.url), { clock });
  });
  afterEach(() => {
    stub.respond((call) => succeeded({ order: JSON.parse(call.form.Input ?? '{}'), n: stub.calls.length }, call));
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
    expect(JSON.stringify(gw.logs)).not.toContain(ALICE);
  });

  const call = (flow: string, body: string, key: string | undefined, apiKey = ALICE, headers: Record<string, string> = {}) =>
    gw.send(`${gw.url}/flows/${flow}/run`, { body, headers: { 'x-api-key': apiKey, ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers } });
  const runsOf = (marker: string) => stub.calls.filter((c) => c.form.Input?.includes(marker)).length;

  it('the first request runs; a retry with the same key and body replays the stored answer', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ item: 'book', marker: key });
    const first = await call('orders', body, key);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await call('orders', body, key);
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('x-execution-name')).toBe(first.headers.get('x-execution-name'));
    expect(runsOf(key)).toBe(1);
    expect(gw.logs.find((l) => l.requestId === retry.headers.get('x-request-id'))).toMatchObject({ idempotency: 'replayed' });
  });

  it('the key may be sent as a Structured Field String or bare; both name the same key', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    expect((await call('orders', body, `"${key}"`)).status).toBe(200);
    expect((await call('orders', body, key)).headers.get('idempotent-replayed')).toBe('true');
    expect(runsOf(key)).toBe(1);
  });

  it('a retry while the first is in flight gets 409; the first still completes and is then replayed', async () => {
    // The first runs until the retry has been answered.
    const upstream = gate();
    stub.respond(async (c) => {
      await upstream.opened;
      return succeeded({ ok: true }, c);
    });
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    const first = call('orders', body, key);
    await stub.received(stub.calls.length + 1);
    const second = await call('orders', body, key);
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ Code: 'Conflict' });
    expect(second.headers.get('retry-after')).toBe('1');
    upstream.open();
    expect((await first).status).toBe(200);
    expect((await call('orders', body, key)).headers.get('idempotent-replayed')).toBe('true');
    expect(runsOf(key)).toBe(1);
  });

  it('the same key with a different body gets 422, whether the first is done or in flight', async () => {
    const key = randomUUID();
    expect((await call('orders', JSON.stringify({ marker: key, qty: 1 }), key)).status).toBe(200);
    const other = await call('orders', JSON.stringify({ marker: key, qty: 2 }), key);
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ Code: 'IdempotencyKeyMismatch', Message: 'The Idempotency-Key was already used with a different request body.' });
    // Whitespace is a different body too: the fingerprint is over the exact bytes.
    expect((await call('orders', JSON.stringify({ marker: key, qty: 1 }, null, 1), key)).status).toBe(422);

    const upstream = gate();
    stub.respond(async (c) => {
      await upstream.opened;
      return succeeded({}, c);
    });
    const key2 = randomUUID();
    const first = call('orders', JSON.stringify({ marker: key2 }), key2);
    await stub.received(stub.calls.length + 1);
    expect((await call('orders', JSON.stringify({ marker: key2, changed: true }), key2)).status).toBe(422);
    upstream.open();
    await first;
    expect(runsOf(key)).toBe(1);
    expect(runsOf(key2)).toBe(1);
  });

  it('a missing key where the flow requires one is 400 and runs nothing; an optional flow runs without one', async () => {
    const marker = randomUUID();
    const missing = await call('orders', JSON.stringify({ marker }), undefined);
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ Code: 'MissingIdempotencyKey' });
    expect((await call('refunds', JSON.stringify({ marker }), undefined)).status).toBe(200);
    expect((await call('refunds', JSON.stringify({ marker }), undefined)).status).toBe(200);
    expect(runsOf(marker)).toBe(2);
  });

  it('a malformed key is 400 InvalidArgument', async () => {
    for (const bad of ['has space', 'x'.repeat(256), '"unterminated', '"a"b"', 'é']) {
      const answer = await call('orders', '{}', bad);
      expect(answer.status, bad).toBe(400);
      expect(answer.json).toMatchObject({ Code: 'InvalidArgument' });
    }
  });

  it('keys are scoped per caller and per flow', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    expect((await call('orders', body, key, ALICE)).headers.get('idempotent-replayed')).toBeNull();
    expect((await call('orders', body, key, BOB)).headers.get('idempotent-replayed')).toBeNull();
    expect((await call('refunds', body, key, ALICE)).headers.get('idempotent-replayed')).toBeNull();
    expect(runsOf(key)).toBe(3);
    // Bob's use of the key is his own: changing his body is a mismatch against his first request, not Alice's.
    expect((await call('orders', JSON.stringify({ marker: key, bob: 1 }), key, BOB)).status).toBe(422);
    expect((await call('orders', JSON.stringify({ marker: key, bob: 1 }), randomUUID(), BOB)).status).toBe(200);
  });

  it('a key is forgotten after its ttl (injected clock)', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    await call('refunds', body, key);
    clock.advance(10 * 60_000 - 1);
    expect((await call('refunds', body, key)).headers.get('idempotent-replayed')).toBe('true');
    clock.advance(2);
    expect((await call('refunds', body, key)).headers.get('idempotent-replayed')).toBeNull();
    expect(runsOf(key)).toBe(2);
  });

  it('flow failures are final and replayed; throttling and upstream outages are released for a retry', async () => {
    const failed = randomUUID();
    stub.respond((c) => ({
      json: { ...(succeeded({}, c).json as object), Status: 'Failed', ErrorCode: 'OutOfStock', ErrorMessage: 'sold out', Output: undefined },
    }));
    const first = await call('orders', JSON.stringify({ marker: failed }), failed);
    expect(first.status).toBe(409);
    expect(first.json).toMatchObject({ Code: 'OutOfStock' });
    const replay = await call('orders', JSON.stringify({ marker: failed }), failed);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(runsOf(failed)).toBe(1);

    for (const answer of [upstreamError(429, 'ResourceThrottled'), upstreamError(500, 'InternalServerError'), { hang: true }]) {
      const key = randomUUID();
      stub.respond(() => answer);
      const refused = await call('orders', JSON.stringify({ marker: key }), key);
      expect([429, 502, 504]).toContain(refused.status);
      stub.respond((c) => succeeded({ ok: true }, c));
      const retried = await call('orders', JSON.stringify({ marker: key }), key);
      expect(retried.status).toBe(200);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(runsOf(key)).toBe(2);
    }
  });

  it('an in-flight claim expires after its lease, so a crashed first attempt does not block the key forever', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    stub.respond(() => ({ hang: true }));
    const abandoned = call('orders', body, key);
    await stub.received(stub.calls.length + 1);
    expect((await call('orders', body, key)).status).toBe(409);
    // upstream timeout (0.5 s) + 30 s margin later, the claim is gone.
    clock.advance(500 + 30_000 + 1);
    stub.respond((c) => succeeded({ second: true }, c));
    const taken = await call('orders', body, key);
    expect(taken.status).toBe(200);
    // The first attempt's late failure must not release the new owner's record.
    expect((await abandoned).status).toBe(504);
    const replay = await call('orders', body, key);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(taken.text);
  });

  it('a key sent to a flow without idempotency is ignored', async () => {
    const key = randomUUID();
    await call('plain', JSON.stringify({ marker: key }), key);
    const again = await call('plain', JSON.stringify({ marker: key }), key);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(runsOf(key)).toBe(2);
  });
});

describe('Idempotency-Key when the record store fails', () => {
  const failing: RecordStore = {
    claim: () => Promise.reject(new Error('connection refused')),
    complete: () => Promise.reject(new Error('connection refused')),
    release: () => Promise.reject(new Error('connection refused')),
    put: () => Promise.reject(new Error('connection refused')),
    get: () => Promise.reject(new Error('connection refused')),
  };

  it('onError: closed answers 503 and runs nothing; onError: open runs without the record', async () => {
    const stub = inProcessUpstream();
    const closed = inProcessGateway(config(stub.url, { storeOptions: { onError: 'closed' } }), { records: failing });
    const open = inProcessGateway(config(stub.url, { storeOptions: { onError: 'open' } }), { records: failing });
    try {
      const refused = await closed.send(`${closed.url}/flows/orders/run`, { body: '{}', headers: { 'x-api-key': ALICE, 'idempotency-key': 'k1' } });
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ Code: 'ServiceUnavailable' });
      expect(stub.calls).toHaveLength(0);
      const served = await open.send(`${open.url}/flows/orders/run`, { body: '{}', headers: { 'x-api-key': ALICE, 'idempotency-key': 'k1' } });
      expect(served.status).toBe(200);
      expect(stub.calls).toHaveLength(1);
      expect(open.logs.at(-1)).toMatchObject({ idempotency: 'bypass', detail: 'record store unavailable' });
    } finally {
      await closed.close();
      await open.close();
      await stub.close();
    }
  });
});
