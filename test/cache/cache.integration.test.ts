import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import {
  inProcessUpstream,
  startUpstreamStub,
  succeeded,
  upstreamError,
  TEST_CREDENTIALS,
  type ReceivedCall,
  type UpstreamStub,
} from '../helpers/upstream-stub.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { gate } from '../helpers/gate.js';
import type { Deps } from '../../src/deps.js';
import { manualClock } from '../../src/lib/clock.js';

const ALICE_KEY = 'alice-key-0123456789abcdef';
const BOB_KEY = 'bob-key-0123456789abcdef0';
const ADMIN_KEY = 'ops-key-0123456789abcdef00';

function config(upstreamUrl: string) {
  return {
    upstream: { endpoint: upstreamUrl, credentials: TEST_CREDENTIALS, timeout: '400ms' },
    callers: {
      alice: { apiKeys: [ALICE_KEY] },
      bob: { apiKeys: [BOB_KEY] },
      ops: { apiKeys: [ADMIN_KEY], admin: true },
    },
    flows: {
      quote: { flowName: 'quote_flow', qualifier: '1', qualifiers: ['2'], cache: { ttl: '60s' }, access: 'authenticated' },
      catalog: { cache: { ttl: '60s', scope: 'shared' }, access: 'authenticated' },
      plain: { access: 'authenticated' },
      slow: { cache: { ttl: '60s' }, access: 'authenticated', timeout: '10s' },
    },
  };
}

/** Echoes the Input with a counter, so a test can tell a fresh run from a stored one. */
function echoWithCount(stub: UpstreamStub) {
  return (call: ReceivedCall) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call);
}

/**
 * Counts the cache lookups that have completed. A request looks its key up once, then (with nothing to
 * wait for in between) starts or joins the run for that key: once n lookups are done and the requests'
 * own continuations have run, n requests have joined.
 */
function watchLookups() {
  let done = 0;
  const waiting = new Set<{ count: number; resolve: () => void }>();
  return {
    wrap(deps: Deps) {
      const store = deps.cache!;
      deps.cache = {
        ...store,
        get: (key) =>
          store.get(key).finally(() => {
            done++;
            for (const waiter of waiting) {
              if (done < waiter.count) continue;
              waiting.delete(waiter);
              waiter.resolve();
            }
          }),
      };
    },
    get done() {
      return done;
    },
    /** Resolves once `count` lookups in all have completed and every continuation queued by them has run. */
    async reached(count: number): Promise<void> {
      if (done < count) await new Promise<void>((resolve) => waiting.add({ count, resolve }));
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A gateway in process (`fetch` is its own) or over a socket (global `fetch`). */
type Gateway = { url: string; fetch?: typeof fetch };

async function post(gw: Gateway, path: string, body: string, headers: Record<string, string> = {}) {
  const credential: Record<string, string> = headers.authorization || headers['x-api-key'] ? {} : { 'x-api-key': ALICE_KEY };
  const res = await (gw.fetch ?? fetch)(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...credential, ...headers }, body });
  const text = await res.text();
  return { res, text, status: res.status, cacheStatus: res.headers.get('cache-status'), age: res.headers.get('age') };
}

describe('response cache', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const lookups = watchLookups();
  /** Upstream calls whose Input carries this marker. */
  const callsFor = (marker: string) => stub.calls.filter((c) => (c.form.Input ?? '').includes(marker)).length;

  beforeAll(() => {
    stub = inProcessUpstream();
    stub.respond(echoWithCount(stub));
    gw = inProcessGateway(config(stub.url), { adjustDeps: (deps) => lookups.wrap(deps) });
  });
  afterEach(() => stub.respond(echoWithCount(stub)));
  afterAll(async () => {
    await gw.close();
    await stub.close();
    const haystack = JSON.stringify(gw.logs);
    for (const key of [ALICE_KEY, BOB_KEY, ADMIN_KEY]) expect(haystack).not.toContain(key);
  });

  it('a miss stores, the next identical request hits with the same body and headers plus Age and Cache-Status', async () => {
    const miss = await post(gw, '/flows/quote/run', '{"t":"hit-1","b":[1,2],"a":{"y":1,"x":2}}');
    expect(miss.status).toBe(200);
    expect(miss.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(miss.age).toBeNull();

    // Same value, other key order, whitespace and number spelling.
    const hit = await post(gw, '/flows/quote/run', '{ "a": {"x": 2.0, "y": 1e0}, "b": [1, 2], "t": "hit-1" }');
    expect(hit.status).toBe(200);
    expect(hit.text).toBe(miss.text);
    expect(hit.res.headers.get('content-type')).toBe(miss.res.headers.get('content-type'));
    expect(hit.res.headers.get('x-execution-name')).toBe(miss.res.headers.get('x-execution-name'));
    expect(hit.cacheStatus).toBe('flowgate; hit; ttl=60');
    expect(hit.age).toBe('0');
    expect(hit.res.headers.get('x-request-id')).not.toBe(miss.res.headers.get('x-request-id'));
    expect(callsFor('hit-1')).toBe(1);

    const missLine = gw.logs.find((l) => l.requestId === miss.res.headers.get('x-request-id'));
    const hitLine = gw.logs.find((l) => l.requestId === hit.res.headers.get('x-request-id'));
    expect(missLine).toMatchObject({ cache: 'miss', upstreamStatus: 200 });
    expect(hitLine).toMatchObject({ cache: 'hit' });
    expect(hitLine).not.toHaveProperty('upstreamStatus');
  });

  it('the qualifier is part of the key', async () => {
    await post(gw, '/flows/quote/run', '{"t":"qual"}');
    const other = await post(gw, '/flows/quote/run?qualifier=2', '{"t":"qual"}');
    expect(other.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(callsFor('qual')).toBe(2);
  });

  it('never serves one caller the entry of another with the default scope', async () => {
    const alice = await post(gw, '/flows/quote/run', '{"t":"leak"}', { 'x-api-key': ALICE_KEY });
    const bob = await post(gw, '/flows/quote/run', '{"t":"leak"}', { authorization: `Bearer ${BOB_KEY}` });
    expect(alice.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(bob.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(bob.text).not.toBe(alice.text);
    expect(callsFor('leak')).toBe(2);
    // Each now hits their own.
    expect((await post(gw, '/flows/quote/run', '{"t":"leak"}', { 'x-api-key': ALICE_KEY })).text).toBe(alice.text);
    expect((await post(gw, '/flows/quote/run', '{"t":"leak"}', { 'x-api-key': BOB_KEY })).text).toBe(bob.text);
    expect(callsFor('leak')).toBe(2);
  });

  it('shares one entry between callers when the flow says scope: shared', async () => {
    const alice = await post(gw, '/flows/catalog/run', '{"t":"shared"}', { 'x-api-key': ALICE_KEY });
    const bob = await post(gw, '/flows/catalog/run', '{"t":"shared"}', { 'x-api-key': BOB_KEY });
    expect(alice.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(bob.cacheStatus).toBe('flowgate; hit; ttl=60');
    expect(bob.text).toBe(alice.text);
    expect(callsFor('shared')).toBe(1);
  });

  it('flows without cache are untouched: no Cache-Status, every request runs', async () => {
    const a = await post(gw, '/flows/plain/run', '{"t":"plain"}');
    const b = await post(gw, '/flows/plain/run', '{"t":"plain"}');
    expect(a.cacheStatus).toBeNull();
    expect(b.cacheStatus).toBeNull();
    expect(callsFor('plain')).toBe(2);
  });

  it('Cache-Control: no-store bypasses the cache entirely', async () => {
    const stored = await post(gw, '/flows/quote/run', '{"t":"nostore-1"}');
    const bypass = await post(gw, '/flows/quote/run', '{"t":"nostore-1"}', { 'cache-control': 'no-store' });
    expect(bypass.cacheStatus).toBe('flowgate; fwd=bypass');
    expect(bypass.text).not.toBe(stored.text);
    expect(callsFor('nostore-1')).toBe(2);
    // The bypassed result replaced nothing: the stored entry still answers.
    expect((await post(gw, '/flows/quote/run', '{"t":"nostore-1"}')).text).toBe(stored.text);

    // And a no-store result on a fresh key is not stored.
    await post(gw, '/flows/quote/run', '{"t":"nostore-2"}', { 'cache-control': 'no-store' });
    expect((await post(gw, '/flows/quote/run', '{"t":"nostore-2"}')).cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(callsFor('nostore-2')).toBe(2);
  });

  it('Cache-Control: no-cache skips the lookup but stores the fresh result', async () => {
    const first = await post(gw, '/flows/quote/run', '{"t":"nocache"}');
    const fresh = await post(gw, '/flows/quote/run', '{"t":"nocache"}', { 'cache-control': 'no-cache' });
    expect(fresh.cacheStatus).toBe('flowgate; fwd=request; stored');
    expect(fresh.text).not.toBe(first.text);
    const after = await post(gw, '/flows/quote/run', '{"t":"nocache"}');
    expect(after.cacheStatus).toBe('flowgate; hit; ttl=60');
    expect(after.text).toBe(fresh.text);
    expect(callsFor('nocache')).toBe(2);
  });

  it.each([
    ['Failed', () => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'Failed', ErrorCode: 'Boom', ErrorMessage: 'it broke' } }), 500],
    ['TimedOut', () => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'TimedOut' } }), 504],
    ['Stopped', () => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'Stopped' } }), 500],
    ['upstream 5xx', () => upstreamError(503, 'ServiceUnavailable'), 502],
    ['upstream 429', () => upstreamError(429, 'ResourceThrottled'), 429],
    ['the deadline', () => ({ hang: true }), 504],
  ] as const)('%s is never cached', async (label, answer, status) => {
    const marker = `fail-${label}`;
    stub.respond(answer);
    const first = await post(gw, '/flows/quote/run', JSON.stringify({ t: marker }));
    expect(first.status).toBe(status);
    expect(first.cacheStatus).toBe('flowgate; fwd=miss');
    const second = await post(gw, '/flows/quote/run', JSON.stringify({ t: marker }));
    expect(second.status).toBe(status);
    expect(callsFor(marker)).toBe(2);
    // Once it succeeds, that result is stored.
    stub.respond(echoWithCount(stub));
    expect((await post(gw, '/flows/quote/run', JSON.stringify({ t: marker }))).cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect((await post(gw, '/flows/quote/run', JSON.stringify({ t: marker }))).cacheStatus).toBe('flowgate; hit; ttl=60');
    expect(callsFor(marker)).toBe(3);
  });

  it('100 concurrent identical first requests make exactly one upstream execution; 99 are collapsed', async () => {
    // The upstream answers only once all 100 requests have joined the run.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ slow: true, run: stub.calls.length }, call);
    });
    const joined = lookups.reached(lookups.done + 100);
    const pending = Promise.all(Array.from({ length: 100 }, () => post(gw, '/flows/slow/run', '{"t":"stampede"}')));
    await joined;
    upstream.open();
    const answers = await pending;
    expect(callsFor('stampede')).toBe(1);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(new Set(answers.map((a) => a.res.headers.get('x-execution-name'))).size).toBe(1);
    const statuses = answers.map((a) => a.cacheStatus);
    expect(statuses.filter((s) => s === 'flowgate; fwd=miss; collapsed')).toHaveLength(99);
    expect(statuses.filter((s) => s === 'flowgate; fwd=miss; stored')).toHaveLength(1);
    // The next one is a plain hit.
    expect((await post(gw, '/flows/slow/run', '{"t":"stampede"}')).cacheStatus).toBe('flowgate; hit; ttl=60');
    expect(callsFor('stampede')).toBe(1);
  });

  it('when the shared run fails, every waiter gets the same error and the upstream is called once', async () => {
    const upstream = gate();
    stub.respond(async () => {
      await upstream.opened;
      return upstreamError(500, 'InternalServerError');
    });
    const joined = lookups.reached(lookups.done + 20);
    const pending = Promise.all(Array.from({ length: 20 }, () => post(gw, '/flows/slow/run', '{"t":"leader-fails"}')));
    await joined;
    upstream.open();
    const answers = await pending;
    expect(callsFor('leader-fails')).toBe(1);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(502));
    expect(answers.every((a) => JSON.parse(a.text).Code === 'UpstreamError')).toBe(true);
    expect(answers.filter((a) => a.cacheStatus === 'flowgate; fwd=miss; collapsed')).toHaveLength(19);
    // Each error carries its own RequestId.
    expect(new Set(answers.map((a) => JSON.parse(a.text).RequestId)).size).toBe(20);
  });

  it('purge: admin only (others 403, anonymous 401); the next request is a miss', async () => {
    await post(gw, '/flows/quote/run', '{"t":"purge"}');
    expect((await post(gw, '/flows/quote/run', '{"t":"purge"}')).cacheStatus).toMatch(/hit/);

    const anonymous = await gw.fetch(gw.url + '/flows/quote/cache', { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).Code).toBe('InvalidCredentials');
    const alice = await gw.fetch(gw.url + '/flows/quote/cache', { method: 'DELETE', headers: { 'x-api-key': ALICE_KEY } });
    expect(alice.status).toBe(403);
    expect((await alice.json()).Code).toBe('AccessDenied');
    expect((await post(gw, '/flows/quote/run', '{"t":"purge"}')).cacheStatus).toMatch(/hit/);

    const admin = await gw.fetch(gw.url + '/flows/quote/cache', { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(admin.status).toBe(200);
    const body = await admin.json();
    expect(body).toEqual({ RequestId: admin.headers.get('x-request-id'), Flow: 'quote', Purged: true });

    expect((await post(gw, '/flows/quote/run', '{"t":"purge"}')).cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect((await post(gw, '/flows/quote/run', '{"t":"purge"}', { 'x-api-key': BOB_KEY })).cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(callsFor('purge')).toBe(3);

    // Other flows' entries are untouched; a flow without cache answers Purged: false; unknown flows 404.
    const plain = await gw.fetch(gw.url + '/flows/plain/cache', { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    expect(await plain.json()).toMatchObject({ Flow: 'plain', Purged: false });
    expect((await gw.fetch(gw.url + '/flows/nope/cache', { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(404);
    const wrongMethod = await gw.fetch(gw.url + '/flows/quote/cache', { method: 'GET', headers: { 'x-api-key': ADMIN_KEY } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('DELETE');
  });
});

describe('response cache time, with an injected clock', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock();
  const callsFor = (marker: string) => stub.calls.filter((c) => (c.form.Input ?? '').includes(marker)).length;

  beforeAll(() => {
    stub = inProcessUpstream();
    stub.respond(echoWithCount(stub));
    gw = inProcessGateway(config(stub.url), { clock });
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  it('serves an entry until its TTL passes, with Age and the remaining ttl', async () => {
    const miss = await post(gw, '/flows/quote/run', '{"t":"ttl"}');
    clock.advance(20_000);
    let hit = await post(gw, '/flows/quote/run', '{"t":"ttl"}');
    expect(hit.cacheStatus).toBe('flowgate; hit; ttl=40');
    expect(hit.age).toBe('20');
    expect(hit.text).toBe(miss.text);
    clock.advance(39_999);
    hit = await post(gw, '/flows/quote/run', '{"t":"ttl"}');
    expect(hit.cacheStatus).toBe('flowgate; hit; ttl=1');
    expect(hit.age).toBe('59');
    clock.advance(1);
    const expired = await post(gw, '/flows/quote/run', '{"t":"ttl"}');
    expect(expired.cacheStatus).toBe('flowgate; fwd=miss; stored');
    expect(expired.text).not.toBe(miss.text);
    expect(callsFor('ttl')).toBe(2);
  });

  it('Cache-Control: max-age=N caps the age the caller accepts', async () => {
    const miss = await post(gw, '/flows/quote/run', '{"t":"maxage"}');
    clock.advance(30_000);
    const young = await post(gw, '/flows/quote/run', '{"t":"maxage"}', { 'cache-control': 'max-age=30' });
    expect(young.cacheStatus).toBe('flowgate; hit; ttl=30');
    expect(young.text).toBe(miss.text);
    const tooOld = await post(gw, '/flows/quote/run', '{"t":"maxage"}', { 'cache-control': 'max-age=29' });
    expect(tooOld.cacheStatus).toBe('flowgate; fwd=stale; stored');
    expect(tooOld.text).not.toBe(miss.text);
    expect(callsFor('maxage')).toBe(2);
    // The fresh result replaced the old one.
    const after = await post(gw, '/flows/quote/run', '{"t":"maxage"}');
    expect(after.text).toBe(tooOld.text);
    expect(after.age).toBe('0');
    expect(after.cacheStatus).toBe('flowgate; hit; ttl=60');
    // max-age=0 accepts nothing older than now.
    clock.advance(1);
    expect((await post(gw, '/flows/quote/run', '{"t":"maxage"}', { 'cache-control': 'max-age=0' })).cacheStatus).toBe('flowgate; fwd=stale; stored');
    expect(callsFor('maxage')).toBe(3);
  });
});

describe('response cache over a socket', () => {
  let stub: UpstreamStub;
  let gw: TestGateway;
  const lookups = watchLookups();
  /** The server side of each request, in arrival order. */
  const responses: ServerResponse[] = [];
  const callsFor = (marker: string) => stub.calls.filter((c) => (c.form.Input ?? '').includes(marker)).length;

  beforeAll(async () => {
    stub = await startUpstreamStub();
    gw = await startGateway(config(stub.url), { adjustDeps: (deps) => lookups.wrap(deps) });
    // Added after the server's own handler, so a response's close is seen after the server has acted on it.
    gw.server.server.on('request', (_req, res: ServerResponse) => responses.push(res));
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  it('a shared run survives its first client disconnecting while others wait', async () => {
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ survived: true }, call);
    });
    const controller = new AbortController();
    const leader = fetch(gw.url + '/flows/slow/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ALICE_KEY },
      body: '{"t":"disconnect"}',
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await stub.received(1);
    const leaderResponse = responses[0]!;
    const followerJoined = lookups.reached(lookups.done + 1);
    const follower = post(gw, '/flows/slow/run', '{"t":"disconnect"}');
    await followerJoined;
    // The leader's client goes away; the server has acted on it once the leader's response has closed.
    const leaderClosed = leaderResponse.closed ? Promise.resolve() : once(leaderResponse, 'close');
    controller.abort();
    await leaderClosed;
    upstream.open();
    const answer = await follower;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ survived: true });
    expect(answer.cacheStatus).toBe('flowgate; fwd=miss; collapsed');
    expect(await leader).toBeInstanceOf(Error);
    expect(callsFor('disconnect')).toBe(1);
  });
});
