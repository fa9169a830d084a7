/**
 * The cached JWKS against a key server on loopback that holds each fetch until the test answers it:
 * requests share fetched keys, never a fetch in flight, and a burst stays bounded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedJwks } from '../../src/auth/jwks.js';
import { manualClock } from '../../src/lib/clock.js';
import { manualTimer } from '../helpers/manual-timer.js';

interface KeyServer {
  url: string;
  /** Fetches received and not answered yet, oldest first. */
  held: { req: IncomingMessage; res: ServerResponse }[];
  /** Resolves once `count` fetches in all have been received (at once if they have). */
  untilHeld(count: number): Promise<void>;
  hits: number;
  answer(index: number, body: unknown, status?: number): void;
  close(): Promise<void>;
}

async function keyServer(): Promise<KeyServer> {
  const held: KeyServer['held'] = [];
  const state = { hits: 0 };
  const waiting = new Set<{ count: number; resolve: () => void }>();
  const server: Server = createServer((req, res) => {
    state.hits++;
    held.push({ req, res });
    for (const waiter of waiting) {
      if (held.length < waiter.count) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    held,
    untilHeld: (count) => (held.length >= count ? Promise.resolve() : new Promise((resolve) => waiting.add({ count, resolve }))),
    get hits() {
      return state.hits;
    },
    answer(index, body, status = 200) {
      held[index]!.res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let jwk: JWK;
let rotatedJwk: JWK;
let sign: (kid: string) => Promise<string>;
let signRotated: () => Promise<string>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  const rotated = await generateKeyPair('ES256');
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  rotatedJwk = { ...(await exportJWK(rotated.publicKey)), kid: 'k2', alg: 'ES256' };
  sign = (kid) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).sign(pair.privateKey);
  signRotated = () => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).sign(rotated.privateKey);
});

let server: KeyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Resolves the verification key the way jose's jwtVerify asks for it. */
const keyFor = async (getKey: ReturnType<typeof cachedJwks>, token: string) => {
  const [header] = token.split('.');
  return getKey(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')), { payload: '', signature: '' } as never);
};

describe('cachedJwks', () => {
  it('a burst on a cold cache makes one fetch; every request gets the keys', async () => {
    server = await keyServer();
    const clock = manualClock();
    const getKey = cachedJwks({ url: server.url, fetch, clock, ttlMs: 600_000 });
    const token = await sign('k1');
    const burst = Promise.all(Array.from({ length: 20 }, () => keyFor(getKey, token)));
    await server.untilHeld(1);
    server.answer(0, { keys: [jwk] });
    expect(await burst).toHaveLength(20);
    expect(server.hits).toBe(1);
  });

  it('when the first fetch never answers (its request was cancelled), the others fetch once after the lease, not once each', async () => {
    server = await keyServer();
    const clock = manualClock();
    const timers = manualTimer();
    const getKey = cachedJwks({ url: server.url, fetch, clock, ttlMs: 600_000, leaseMs: 1_000, timer: timers.timer });
    const token = await sign('k1');
    void keyFor(getKey, token).catch(() => {}); // the first request: its fetch is never answered
    await server.untilHeld(1);
    const others = Promise.all(Array.from({ length: 5 }, () => keyFor(getKey, token)));
    await timers.untilArmed(5);
    clock.advance(1_000);
    timers.fireAll();
    await server.untilHeld(2);
    server.answer(1, { keys: [jwk] });
    expect(await others).toHaveLength(5);
    expect(server.hits).toBe(2);
  });

  it('a failed fetch with no keys yet fails every waiting request as unavailable; the next request fetches again', async () => {
    server = await keyServer();
    const getKey = cachedJwks({ url: server.url, fetch, clock: manualClock(), ttlMs: 600_000 });
    const token = await sign('k1');
    const both = Promise.allSettled([keyFor(getKey, token), keyFor(getKey, token)]);
    await server.untilHeld(1);
    server.answer(0, {}, 503);
    expect((await both).map((r) => r.status === 'rejected' && (r.reason as Error).name)).toEqual(['JwksUnavailableError', 'JwksUnavailableError']);
    const next = keyFor(getKey, token);
    await server.untilHeld(2);
    server.answer(1, { keys: [jwk] });
    await expect(next).resolves.toBeDefined();
  });

  it('an unknown kid fetches at most once per cooldown, and a failed refresh keeps the keys it had', async () => {
    server = await keyServer();
    const clock = manualClock();
    const getKey = cachedJwks({ url: server.url, fetch, clock, ttlMs: 600_000, cooldownMs: 30_000 });
    const first = keyFor(getKey, await sign('k1'));
    await server.untilHeld(1);
    server.answer(0, { keys: [jwk] });
    await first;
    await expect(keyFor(getKey, await signRotated())).rejects.toThrow(); // within the cooldown: no fetch
    expect(server.hits).toBe(1);
    clock.advance(30_000);
    const rotated = keyFor(getKey, await signRotated());
    await server.untilHeld(2);
    server.answer(1, {}, 500);
    await expect(rotated).rejects.toThrow(); // refresh failed: k2 still unknown
    await expect(keyFor(getKey, await sign('k1'))).resolves.toBeDefined(); // k1 still served
    clock.advance(30_000);
    const later = keyFor(getKey, await signRotated());
    await server.untilHeld(3);
    server.answer(2, { keys: [jwk, rotatedJwk] });
    await expect(later).resolves.toBeDefined();
  });

  it('an older fetch that lands after a newer one does not bring its keys back', async () => {
    server = await keyServer();
    const clock = manualClock();
    const timers = manualTimer();
    const getKey = cachedJwks({ url: server.url, fetch, clock, ttlMs: 600_000, leaseMs: 1_000, timer: timers.timer });
    const first = keyFor(getKey, await sign('k1'));
    first.catch(() => {});
    await server.untilHeld(1);
    const waiting = keyFor(getKey, await signRotated());
    await timers.untilArmed(1);
    clock.advance(1_000);
    timers.fireAll();
    await server.untilHeld(2);
    server.answer(1, { keys: [rotatedJwk] }); // the newer fetch: the issuer rotated to k2
    await expect(waiting).resolves.toBeDefined();
    server.answer(0, { keys: [jwk] }); // the older fetch lands late, with the old set
    await expect(first).rejects.toThrow(); // its own request is judged against the newer keys
    await expect(keyFor(getKey, await signRotated())).resolves.toBeDefined();
  });
});
