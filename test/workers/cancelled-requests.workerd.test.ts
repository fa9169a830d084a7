/**
 * In workerd, I/O belongs to the request that started it: when that request is cancelled (its client
 * gave up), its pending fetches and Durable Object calls are cancelled with it. A second request that
 * started meanwhile must still complete: no request waits on a promise another request started.
 *
 * `caches.open` is not covered here: workerd resolves it before returning (CacheStorage::open answers
 * with an already resolved promise), so no request can be caught with an open pending.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { answerOf, type Answer } from '../helpers/post.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';

const SECRETS = { ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret };

/** A loopback server that holds requests until the test opens it; once open, it answers at once. */
interface Gate {
  url: string;
  held: { req: IncomingMessage; res: ServerResponse; closedEarly: boolean; closed: Promise<void> }[];
  hits: number;
  /** Resolves once `count` requests in all have arrived (held or answered). */
  untilHits(count: number): Promise<void>;
  /** Answers every held request still open, and every later one at once. */
  open(): void;
  close(): Promise<void>;
}

/** `hold`: how many requests, counted from the first, are held; later ones are answered at once. */
async function gate(
  answer: (req: IncomingMessage) => { status: number; body: string } = () => ({ status: 200, body: 'go' }),
  { hold = Infinity }: { hold?: number } = {},
): Promise<Gate> {
  const held: Gate['held'] = [];
  let opened = false;
  let hits = 0;
  const waiting = new Set<{ count: number; resolve: () => void }>();
  const reply = (req: IncomingMessage, res: ServerResponse) => {
    const { status, body } = answer(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };
  const server: Server = createServer((req, res) => {
    hits++;
    for (const waiter of waiting) {
      if (hits < waiter.count) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
    if (opened || hits > hold) return reply(req, res);
    let closed!: () => void;
    const entry = { req, res, closedEarly: false, closed: new Promise<void>((resolve) => (closed = resolve)) };
    res.on('close', () => {
      entry.closedEarly = !res.writableFinished;
      closed();
    });
    held.push(entry);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    held,
    get hits() {
      return hits;
    },
    untilHits: (count) => (hits >= count ? Promise.resolve() : new Promise((resolve) => waiting.add({ count, resolve }))),
    open() {
      opened = true;
      for (const { req, res } of held) if (!res.destroyed) reply(req, res);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request from a client that stays connected, with a deadline so a hang fails the test instead of stalling it. */
async function patient(url: string, init: RequestInit): Promise<Answer> {
  return answerOf(await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }));
}

let build: WorkerBuild;
let stub: UpstreamStub;

beforeAll(async () => {
  [build, stub] = await Promise.all([buildWorker(), startUpstreamStub()]);
  stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call));
}, 90_000);

afterAll(async () => {
  await stub?.close();
  await build?.remove();
});

describe('a JWKS fetch whose request was cancelled', () => {
  let edge: WorkerdGateway;
  let jwks: Gate;
  let giveUp: Gate;
  let jwk: JWK;
  let token: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    token = await new SignJWT({ sub: 'reader' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('10m').sign(pair.privateKey);
    // Only the first fetch is held (its request is then cancelled); any later one is answered at once.
    [jwks, giveUp] = await Promise.all([gate(() => ({ status: 200, body: JSON.stringify({ keys: [jwk] }) }), { hold: 1 }), gate()]);
    const config = {
      upstream: { endpoint: stub.url, timeout: '5s' },
      auth: { jwt: { jwksUrl: jwks.url } },
      flows: { secure: {} },
    };
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(config), ...SECRETS }, { client: true });
  }, 60_000);

  afterAll(async () => {
    await edge?.close();
    await jwks?.close();
    await giveUp?.close();
  });

  it('does not stall the requests that were waiting for it: one of them fetches once, and all complete', async () => {
    const init = () => ({ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
    const first = edge.throughClient('/flows/secure/run', init(), giveUp.url);
    await jwks.untilHits(1);
    const others = Promise.all([1, 2, 3].map(() => patient(`${edge.url}/flows/secure/run`, init())));
    giveUp.open();
    expect((await first).status).toBe(499);
    // The first request's fetch was cancelled with it: the key server saw its connection close unanswered.
    await jwks.held[0]!.closed;
    expect(jwks.held[0]!.closedEarly).toBe(true);
    const answers = await others;
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    // Bounded: the three waiting requests made one fetch between them, not one each. Single flight starts at most
    // one fetch per lease (1 s) while none has settled: when the first's lease ran out, one waiter fetched, and the
    // others wait a lease for that fetch. It is answered at once, so they have it long before then. (When this
    // test answered it only after the first request's 499 and closed connection, a busy machine that took over
    // two leases for those steps got a third fetch, from a waiter whose second lease had run out: correct, but
    // not this bound.)
    expect(jwks.hits).toBe(2);
  });
});

describe('a purge-generation read whose request was cancelled', () => {
  let edge: WorkerdGateway;
  let reads: Gate;
  let giveUp: Gate;

  beforeAll(async () => {
    [reads, giveUp] = await Promise.all([gate(), gate()]);
    // The real records object, with a gate in front of generation reads so a test can hold one in flight.
    const entry = `
import worker, { FlowgateRecords } from './worker.js';
export { FlowgateRateLimiter, FlowgateRecords } from './worker.js';
export class GatedRecords extends FlowgateRecords {
  async get(key) {
    if (key.startsWith('cache-gen:')) await (await fetch(${JSON.stringify(reads.url)})).arrayBuffer();
    return super.get(key);
  }
}
export default worker;
`;
    const config = {
      upstream: { endpoint: stub.url, timeout: '5s' },
      // Long enough that a lookup waiting on a dead read fails by the store timeout, not by chance.
      storeOptions: { timeout: '4s' },
      flows: { quote: { access: 'public', cache: { ttl: '60s', scope: 'shared' } } },
    };
    edge = await startWorkerd(
      build,
      { FLOWGATE_CONFIG: JSON.stringify(config), ...SECRETS },
      { client: true, entry: { source: entry, recordsClass: 'GatedRecords' } },
    );
  }, 60_000);

  afterAll(async () => {
    await edge?.close();
    await reads?.close();
    await giveUp?.close();
  });

  it('does not fail the cache lookups that were waiting for it: they read the generation themselves', async () => {
    const post = (marker: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ marker }) });
    const first = edge.throughClient('/flows/quote/run', post(randomUUID()), giveUp.url);
    await reads.untilHits(1);
    const second = patient(`${edge.url}/flows/quote/run`, post(randomUUID()));
    giveUp.open();
    expect((await first).status).toBe(499);
    reads.open();
    const answer = await second;
    expect(answer.status).toBe(200);
    // A lookup that waited on the dead read would have timed out and served without the cache.
    expect(answer.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(edge.logs().filter((line) => line.msg === 'cache store failed; serving without cache')).toEqual([]);
  });
});

describe('a cached flow’s run whose request was cancelled', () => {
  let edge: WorkerdGateway;
  let giveUp: Gate;

  beforeAll(async () => {
    giveUp = await gate();
    const config = {
      upstream: { endpoint: stub.url, timeout: '5s' },
      flows: { quote: { access: 'public', cache: { ttl: '60s', scope: 'shared' } } },
    };
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(config), ...SECRETS }, { client: true });
  }, 60_000);

  afterAll(async () => {
    await edge?.close();
    await giveUp?.close();
    stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}'), run: stub.calls.length }, call));
  });

  // The run is kept alive by waitUntil, so it outlives its request (on Cloudflare for about 30 s); the
  // request that joined it is handed the outcome in its own request context.
  it('still answers the request that joined it, with one upstream call', async () => {
    let release!: () => void;
    const upstreamHeld = new Promise<void>((resolve) => (release = resolve));
    stub.respond(async (call) => {
      await upstreamHeld;
      return succeeded({ survived: true }, call);
    });
    const marker = randomUUID();
    const init = () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ marker }) });
    const calls = stub.calls.length;
    const first = edge.throughClient('/flows/quote/run', init(), giveUp.url);
    await stub.received(calls + 1);
    expect(stub.calls.at(-1)!.form.Input).toContain(marker);
    const second = patient(`${edge.url}/flows/quote/run`, init());
    giveUp.open();
    expect((await first).status).toBe(499);
    // Nothing outside workerd shows when the second request has joined the run (its lookup and the join
    // happen inside the isolate): it gets a moment in real time to do so before the run may end. Without
    // it, a busy machine can deliver the second request after the entry is stored, and it is a plain hit.
    await new Promise((resolve) => setTimeout(resolve, 250));
    release();
    const answer = await second;
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ survived: true });
    expect(answer.headers.get('cache-status')).toBe('flowgate; fwd=miss; collapsed');
    expect(stub.calls.filter((call) => call.form.Input?.includes(marker))).toHaveLength(1);
  });
});
