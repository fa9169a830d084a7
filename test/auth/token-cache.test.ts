/**
 * Remembered tokens: a bearer that verified is not verified again on its next uses, yet every answer is the one a
 * verifier without memory gives at that moment: its `exp` and `nbf` are judged again each time, and a JWKS due
 * for a refresh (or replaced) makes every token verify again, so a withdrawn key stops working as it would anyway.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerifier, type JwtVerifierOptions } from '../../src/auth/jwt.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { manualClock } from '../../src/lib/clock.js';
import { nodeCrypto } from '../../src/platform/node/digests.js';

// Counts the signature checks jose makes, so a test can see a remembered token skip them.
const verifications = { count: 0 };
const countingVerify = ((...args: Parameters<typeof jwtVerify>) => {
  verifications.count++;
  return jwtVerify(...args);
}) as typeof jwtVerify;

const SECRET = 'token-cache-secret-0123456789abcdef0123';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const nowSec = NOW / 1000;

const hs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

function verifier(clock: { now(): number }, extra: Partial<JwtVerifierOptions> = {}) {
  return jwtVerifier({
    secret: SECRET,
    callerClaim: 'sub',
    clockSkewMs: 30_000,
    jwksCacheTtlMs: 600_000,
    requireExpiration: false,
    tokenCacheSize: 100,
    digest: nodeCrypto.sha256Hex,
    jwtVerify: countingVerify,
    clock,
    fetch,
    ...extra,
  });
}

describe('remembered tokens', () => {
  it('answer at any later time exactly as a verifier without memory does (exp, nbf, the leeway, whole seconds)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.integer({ min: -120, max: 120 }), { nil: undefined }),
        fc.option(fc.integer({ min: -120, max: 120 }), { nil: undefined }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: -150_000, max: 150_000 }),
        async (expIn, nbfIn, skewSec, laterMs) => {
          const claims: Record<string, unknown> = { sub: 'alice' };
          if (expIn !== undefined) claims.exp = nowSec + expIn;
          if (nbfIn !== undefined) claims.nbf = nowSec + nbfIn;
          const token = await hs256(claims);
          const clock = manualClock(NOW);
          const remembering = verifier(clock, { clockSkewMs: skewSec * 1000 });
          const first = await remembering(token);
          clock.set(NOW + laterMs);
          const fresh = verifier(clock, { clockSkewMs: skewSec * 1000, tokenCacheSize: 0 });
          expect(await remembering(token)).toEqual(await fresh(token));
          // And the first answer was a fresh verifier's too.
          clock.set(NOW);
          expect(first).toEqual(await fresh(token));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a token verified once is not verified again; another token is; with tokenCacheSize 0 every use is', async () => {
    const clock = manualClock(NOW);
    const verify = verifier(clock);
    const alice = await hs256({ sub: 'alice', exp: nowSec + 300 });
    const bob = await hs256({ sub: 'bob', exp: nowSec + 300 });
    const before = verifications.count;
    for (let i = 0; i < 5; i++) expect(await verify(alice)).toEqual({ ok: true, subject: 'alice' });
    expect(verifications.count - before).toBe(1);
    expect(await verify(bob)).toEqual({ ok: true, subject: 'bob' });
    expect(verifications.count - before).toBe(2);
    // A forged token with alice's claims is its own token: verified, and refused.
    const forged = await new SignJWT({ sub: 'alice', exp: nowSec + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    expect(await verify(forged)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verify(forged)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifications.count - before).toBe(4);

    const forgetful = verifier(clock, { tokenCacheSize: 0 });
    const counted = verifications.count;
    for (let i = 0; i < 3; i++) await forgetful(alice);
    expect(verifications.count - counted).toBe(3);
  });

  it('keeps at most tokenCacheSize tokens, the least recently used going first', async () => {
    const verify = verifier(manualClock(NOW), { tokenCacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => hs256({ sub, exp: nowSec + 300 })));
    for (const token of [a, b, a, c]) await verify(token!);
    const before = verifications.count;
    await verify(a!);
    await verify(c!);
    expect(verifications.count - before).toBe(0);
    await verify(b!);
    expect(verifications.count - before).toBe(1);
  });

  it('tokenCacheSize is a config value: an integer from 0, refused at load with its key path otherwise', () => {
    const raw = (size: unknown) => ({
      upstream: { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', accessKeySecret: 'b' } },
      auth: { jwt: { secret: SECRET, tokenCacheSize: size } },
      flows: {},
    });
    expect(parseConfig(raw(0), {}).auth.jwt?.tokenCacheSize).toBe(0);
    expect(parseConfig({ ...raw(1), auth: { jwt: { secret: SECRET } } }, {}).auth.jwt?.tokenCacheSize).toBe(10_000);
    expect(parseConfig(raw(1_000_000), {}).auth.jwt?.tokenCacheSize).toBe(1_000_000);
    for (const bad of [-1, 1.5, '10', 1_000_001]) {
      expect(() => parseConfig(raw(bad), {})).toThrow(ConfigError);
      expect(() => parseConfig(raw(bad), {})).toThrow(/auth\.jwt\.tokenCacheSize/);
    }
  });
});

describe('remembered tokens and a JWKS', () => {
  let server: Server;
  let url: string;
  let served: JWK[] = [];
  let fetches = 0;
  let k1: JWK;
  let k2: JWK;
  let signK1: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const one = await generateKeyPair('ES256');
    const two = await generateKeyPair('ES256');
    k1 = { ...(await exportJWK(one.publicKey)), kid: 'k1', alg: 'ES256' };
    k2 = { ...(await exportJWK(two.publicKey)), kid: 'k2', alg: 'ES256' };
    signK1 = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(one.privateKey);
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('verifies again once the key set is due for a refresh, and a withdrawn key then stops working', async () => {
    served = [k1, k2];
    const clock = manualClock(NOW);
    const verify = verifier(clock, { secret: undefined, jwksUrl: url, jwksCacheTtlMs: 60_000 });
    const token = await signK1({ sub: 'alice', exp: nowSec + 3600 });
    const before = verifications.count;
    expect(await verify(token)).toEqual({ ok: true, subject: 'alice' });
    // The first use fetched the keys while it was verifying: it is not remembered with keys it did not start with.
    expect(await verify(token)).toEqual({ ok: true, subject: 'alice' });
    expect(await verify(token)).toEqual({ ok: true, subject: 'alice' });
    expect(verifications.count - before).toBe(2);
    expect(fetches).toBe(1);

    // The issuer withdraws k1; within the key set's TTL the verifier would still accept it, and so does memory.
    served = [k2];
    clock.advance(59_000);
    expect(await verify(token)).toEqual({ ok: true, subject: 'alice' });
    expect(verifications.count - before).toBe(2);
    // Past the TTL the token is verified again, which fetches the keys: k1 is gone, and so is the token.
    clock.advance(1_000);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'invalid', message: 'The token is signed with an unknown key.' });
    expect(fetches).toBe(2);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'invalid' });
  });
});
