import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessUpstream, upstreamError, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { fetchInProcess, inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';

const KEY = 'mobile-key-0123456789abcdef';
const OTHER_KEY = 'partner-key-0123456789abcdef';
const INTERNAL_KEY = 'internal-key-0123456789abcdef';
const HS_SECRET = 'hs256-secret-0123456789abcdef0123456789';
const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const nowSeconds = NOW / 1000;

async function post(url: string, headers: Record<string, string> = {}, body = '{}') {
  const res = await fetchInProcess(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { res, text, json: JSON.parse(text) as Record<string, unknown> };
}

/**
 * Starts a POST whose body (no Content-Length) never finishes, and resolves with the status as soon as
 * the gateway answers. A gateway that tried to read the body would never answer.
 */
async function postNeverEnding(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string> }> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"never":"'));
    },
  });
  const res = await fetchInProcess(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);
  await res.body?.cancel();
  await body.cancel().catch(() => {});
  return { status: res.status, headers: Object.fromEntries(res.headers) };
}

describe('callers, limits and refusals through the gateway (memory store)', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  let trusting: InProcessGateway;
  const clock = manualClock(NOW);
  const seen: string[] = [];

  beforeAll(async () => {
    stub = inProcessUpstream();
    const raw = (trustProxy: boolean) => ({
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
      server: { trustProxy },
      callers: {
        'mobile-app': { apiKeys: [KEY], rateLimit: { rate: '1/h', burst: 50 } },
        partner: { apiKeys: [OTHER_KEY], rateLimit: { rate: '20/s', burst: 40 } },
        // No caller-wide limit of its own, by key or by token.
        internal: { apiKeys: [INTERNAL_KEY] },
      },
      auth: {
        jwt: { secret: HS_SECRET, issuer: 'https://issuer.example', audience: 'flowgate', clockSkew: '30s', defaultRateLimit: { rate: '1/h', burst: 3 } },
      },
      anonymous: { rateLimit: { rate: '1/h', burst: 2 } },
      flows: {
        burst: { access: ['mobile-app'] },
        hello: { access: 'authenticated', rateLimit: { rate: '5/s', burst: 10 } },
        open: { access: 'public' },
        alice: { access: ['jwt:alice'] },
        tokens: { access: ['jwt:*'] },
        slow: { access: ['partner'], rateLimit: { rate: '1/h', burst: 1 } },
        unlimited: { access: 'public' },
      },
    });
    gw = inProcessGateway(raw(false), { clock });
    trusting = inProcessGateway(raw(true), { clock });
  });
  afterAll(async () => {
    await gw.close();
    await trusting.close();
    await stub.close();
    const haystack = seen.join('\n') + JSON.stringify(gw.logs) + JSON.stringify(trusting.logs);
    expect(haystack).not.toContain(KEY);
    expect(haystack).not.toContain(OTHER_KEY);
    expect(haystack).not.toContain(INTERNAL_KEY);
    expect(haystack).not.toContain(HS_SECRET);
    expect(haystack).not.toContain('eyJ');
  });

  it('exactness in one process: 300 concurrent requests against burst 50 admit exactly 50', async () => {
    const before = stub.calls.length;
    const answers = await Promise.all(Array.from({ length: 300 }, () => post(`${gw.url}/flows/burst/run`, { 'x-api-key': KEY })));
    const ok = answers.filter((a) => a.res.status === 200);
    const refused = answers.filter((a) => a.res.status === 429);
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(250);
    expect(stub.calls.length - before).toBe(50);
    for (const { res, json } of refused) {
      expect(json).toMatchObject({ Code: 'ResourceThrottled', Message: 'The request is throttled. Please try again later.' });
      expect(json.RequestId).toBe(res.headers.get('x-request-id'));
      expect(res.headers.get('retry-after')).toBe('3600'); // 1/h: the next request fits in an hour
      expect(res.headers.get('ratelimit-policy')).toBe('"caller";q=50;w=180000');
      expect(res.headers.get('ratelimit')).toBe('"caller";r=0;t=3600');
    }
    const remaining = ok.map((a) => Number(/r=(\d+)/.exec(a.res.headers.get('ratelimit')!)![1])).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const lines = gw.logs.filter((l) => l.path === '/flows/burst/run' && l.status === 429);
    expect(lines.length).toBe(250);
    expect(lines.every((l) => l.rateLimited === 'local' && l.error === 'ResourceThrottled' && l.caller === 'mobile-app')).toBe(true);
  });

  it('caller-wide and per-flow policies both apply; both are reported', async () => {
    const first = await post(`${gw.url}/flows/hello/run`, { authorization: `Bearer ${OTHER_KEY}` });
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('ratelimit-policy')).toBe('"caller";q=40;w=2, "flow";q=10;w=2');
    expect(first.res.headers.get('ratelimit')).toBe('"caller";r=39;t=1, "flow";r=9;t=1');
    for (let i = 0; i < 9; i++) expect((await post(`${gw.url}/flows/hello/run`, { 'x-api-key': OTHER_KEY })).res.status).toBe(200);
    const refused = await post(`${gw.url}/flows/hello/run`, { 'x-api-key': OTHER_KEY });
    expect(refused.res.status).toBe(429);
    expect(refused.res.headers.get('retry-after')).toBe('1');
    expect(refused.res.headers.get('ratelimit')).toBe('"caller";r=30;t=1, "flow";r=0;t=1');
    // The refusal took nothing from the caller-wide bucket.
    const elsewhere = await post(`${gw.url}/flows/slow/run`, { 'x-api-key': OTHER_KEY });
    expect(elsewhere.res.headers.get('ratelimit')).toBe('"caller";r=29;t=1, "flow";r=0;t=3600');
    clock.advance(200); // one flow token back
    expect((await post(`${gw.url}/flows/hello/run`, { 'x-api-key': OTHER_KEY })).res.status).toBe(200);
  });

  it('errors after the limiter (413 here) still carry the RateLimit fields', async () => {
    const big = await post(`${gw.url}/flows/unlimited/run`, { 'x-api-key': OTHER_KEY }, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.res.status).toBe(413);
    expect(big.res.headers.get('ratelimit-policy')).toBe('"caller";q=40;w=2');
    expect(big.res.headers.get('ratelimit')).toMatch(/^"caller";r=\d+;t=\d+$/);
  });

  it('a throttled caller gets 429 before its body is read, and the upstream is never called', async () => {
    expect((await post(`${gw.url}/flows/slow/run`, { 'x-api-key': OTHER_KEY })).res.status).toBe(429);
    const before = stub.calls.length;
    const answer = await postNeverEnding(`${gw.url}/flows/slow/run`, { 'x-api-key': OTHER_KEY });
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    expect(answer.headers.ratelimit).toContain('"flow";r=0');
    expect(stub.calls.length).toBe(before);
  });

  it('a bad key gets 401 before its body is read; the key is never logged', async () => {
    const before = stub.calls.length;
    const answer = await postNeverEnding(`${gw.url}/flows/hello/run`, { 'x-api-key': 'wrong-key-0123456789abcdef' });
    expect(answer.status).toBe(401);
    const bearer = await post(`${gw.url}/flows/hello/run`, { authorization: 'Bearer not-a-configured-key-0123' });
    expect(bearer.res.status).toBe(401);
    expect(bearer.json).toMatchObject({ Code: 'InvalidCredentials', Message: 'The API key is not valid.' });
    seen.push(bearer.text);
    expect(stub.calls.length).toBe(before);
    expect(JSON.stringify(gw.logs)).not.toContain('wrong-key-0123456789abcdef');
    expect(JSON.stringify(gw.logs)).not.toContain('not-a-configured-key-0123');
  });

  it('a missing credential is 401 and a caller outside the access list is 403', async () => {
    const anonymous = await post(`${gw.url}/flows/hello/run`);
    expect(anonymous.res.status).toBe(401);
    expect(anonymous.json.Code).toBe('InvalidCredentials');
    const denied = await post(`${gw.url}/flows/burst/run`, { 'x-api-key': OTHER_KEY });
    expect(denied.res.status).toBe(403);
    expect(denied.json.Code).toBe('AccessDenied');
  });

  it('anonymous callers are keyed by peer address; a spoofed X-Forwarded-For is ignored without trustProxy', async () => {
    const spoof = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}`, 'cf-connecting-ip': `203.0.113.${i}` });
    expect((await post(`${gw.url}/flows/open/run`, spoof(1))).res.status).toBe(200);
    expect((await post(`${gw.url}/flows/open/run`, spoof(2))).res.status).toBe(200);
    const third = await post(`${gw.url}/flows/open/run`, spoof(3));
    expect(third.res.status).toBe(429);
    const lines = gw.logs.filter((l) => l.path === '/flows/open/run');
    expect(new Set(lines.map((l) => l.caller))).toEqual(new Set(['ip:127.0.0.1']));
  });

  it('with trustProxy: true the loopback peer is one trusted hop: the rightmost X-Forwarded-For entry names the caller, never CF-Connecting-IP', async () => {
    // The entries to the left of the one the proxy appended are whatever the client sent.
    for (let i = 0; i < 2; i++) expect((await post(`${trusting.url}/flows/open/run`, { 'x-forwarded-for': `10.9.9.${i}, 198.51.100.7` })).res.status).toBe(200);
    expect((await post(`${trusting.url}/flows/open/run`, { 'x-forwarded-for': '198.51.100.7' })).res.status).toBe(429);
    expect((await post(`${trusting.url}/flows/open/run`, { 'x-forwarded-for': '198.51.100.8' })).res.status).toBe(200);
    expect((await post(`${trusting.url}/flows/open/run`, { 'cf-connecting-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.9' })).res.status).toBe(200);
    const callers = trusting.logs.filter((l) => l.path === '/flows/open/run').map((l) => l.caller);
    expect(callers).toEqual(['ip:198.51.100.7', 'ip:198.51.100.7', 'ip:198.51.100.7', 'ip:198.51.100.8', 'ip:198.51.100.9']);
  });

  it('upstream ResourceThrottled passes through as 429 with Retry-After and is logged as upstream', async () => {
    stub.respond(() => ({ ...upstreamError(429, 'ResourceThrottled'), headers: { 'retry-after': '9' } }));
    try {
      const answer = await post(`${trusting.url}/flows/unlimited/run`, { 'x-forwarded-for': '192.0.2.1' });
      expect(answer.res.status).toBe(429);
      expect(answer.res.headers.get('retry-after')).toBe('9');
      expect(answer.json.Code).toBe('ResourceThrottled');
      const line = trusting.logs.find((l) => l.caller === 'ip:192.0.2.1');
      expect(line).toMatchObject({ status: 429, rateLimited: 'upstream', upstreamCode: 'ResourceThrottled' });
    } finally {
      stub.respond((call) => ({ json: { RequestId: 'R', Name: `${call.form.ExecutionName}:u`, Status: 'Succeeded', Output: '{}' } }));
    }
  });

  describe('HS256 bearer tokens', () => {
    const sign = (
      claims: Record<string, unknown>,
      options: { secret?: string; iat?: number; exp?: number | null; nbf?: number; aud?: string; iss?: string } = {},
    ) => {
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(options.iat ?? nowSeconds)
        .setIssuer(options.iss ?? 'https://issuer.example')
        .setAudience(options.aud ?? 'flowgate');
      if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? nowSeconds + 300);
      if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
      return jwt.sign(new TextEncoder().encode(options.secret ?? HS_SECRET));
    };
    const run = async (flow: string, token: string) => {
      const r = await post(`${gw.url}/flows/${flow}/run`, { authorization: `Bearer ${token}` });
      seen.push(r.text, JSON.stringify([...r.res.headers]));
      return r;
    };

    it('a valid token names the caller by its sub claim and carries the default JWT limits', async () => {
      const answer = await run('alice', await sign({ sub: 'alice' }));
      expect(answer.res.status).toBe(200);
      expect(answer.res.headers.get('ratelimit-policy')).toBe('"caller";q=3;w=10800');
      expect(gw.logs.at(-1)).toMatchObject({ caller: 'jwt:alice', status: 200 });
      expect((await run('tokens', await sign({ sub: 'bob' }))).res.status).toBe(200);
    });

    it('access lists name token callers by id', async () => {
      const denied = await run('alice', await sign({ sub: 'bob' }));
      expect(denied.res.status).toBe(403);
      expect(denied.json.Code).toBe('AccessDenied');
    });

    it('a token whose claim names a configured caller is that caller, with its limits', async () => {
      const answer = await run('slow', await sign({ sub: 'partner' }));
      expect(answer.res.status).toBe(429); // partner already used its one "slow" run above
      expect(answer.res.headers.get('ratelimit-policy')).toBe('"caller";q=40;w=2, "flow";q=1;w=3600');
    });

    it('a configured caller without a rateLimit has none by token either; auth.jwt.defaultRateLimit is for other token callers', async () => {
      const token = await sign({ sub: 'internal' });
      // Past the default's burst of 3, by token and by key alike, and never a caller policy.
      for (let i = 0; i < 5; i++) {
        for (const headers of [{ authorization: `Bearer ${token}` }, { 'x-api-key': INTERNAL_KEY }] as Record<string, string>[]) {
          const answer = await post(`${gw.url}/flows/unlimited/run`, headers);
          expect(answer.res.status).toBe(200);
          expect(answer.res.headers.get('ratelimit-policy')).toBeNull();
        }
      }
      expect(gw.logs.at(-2)).toMatchObject({ caller: 'internal', status: 200 });
      const other = await run('unlimited', await sign({ sub: 'carol' }));
      expect(other.res.headers.get('ratelimit-policy')).toBe('"caller";q=3;w=10800');
    });

    it('refuses expired, not-yet-valid, forged, wrong-audience, wrong-issuer and exp-less tokens with 401', async () => {
      const cases: [string, Promise<string>, RegExp][] = [
        ['expired', sign({ sub: 'alice' }, { exp: nowSeconds - 31 }), /expired/],
        ['not yet valid', sign({ sub: 'alice' }, { nbf: nowSeconds + 31 }), /not valid yet/],
        ['forged', sign({ sub: 'alice' }, { secret: 'another-secret-0123456789abcdef0123456' }), /^The token is not valid\.$/],
        ['wrong audience', sign({ sub: 'alice' }, { aud: 'someone-else' }), /"aud" is not accepted/],
        ['wrong issuer', sign({ sub: 'alice' }, { iss: 'https://evil.example' }), /"iss" is not accepted/],
        ['no exp', sign({ sub: 'alice' }, { exp: null }), /lacks the "exp" claim/],
        ['no sub', sign({}), /lacks the "sub" claim/],
      ];
      for (const [what, token, message] of cases) {
        const answer = await run('alice', await token);
        expect(answer.res.status, what).toBe(401);
        expect(answer.json.Code, what).toBe('InvalidCredentials');
        expect(answer.json.Message, what).toMatch(message);
        expect(answer.res.headers.get('www-authenticate'), what).toBe('Bearer error="invalid_token"');
      }
    });

    it('accepts tokens within the configured clock skew, judged by the injected clock', async () => {
      expect((await run('alice', await sign({ sub: 'alice' }, { exp: nowSeconds - 29 }))).res.status).toBe(200);
      expect((await run('alice', await sign({ sub: 'alice' }, { nbf: nowSeconds + 29 }))).res.status).toBe(200);
    });

    it('refuses an unsigned token (alg none) and a tampered payload', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: 'alice', exp: nowSeconds + 60, iss: 'https://issuer.example', aud: 'flowgate' })).toString('base64url');
      expect((await run('alice', `${header}.${payload}.`)).res.status).toBe(401);
      const good = await sign({ sub: 'alice' });
      const [h, , s] = good.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: nowSeconds + 60, iss: 'https://issuer.example', aud: 'flowgate' })).toString(
        'base64url',
      );
      expect((await run('tokens', `${h}.${forgedPayload}.${s}`)).res.status).toBe(401);
    });

    it('a bad token is refused before its body is read', async () => {
      const before = stub.calls.length;
      const answer = await postNeverEnding(`${gw.url}/flows/alice/run`, { authorization: `Bearer ${await sign({ sub: 'alice' }, { exp: nowSeconds - 100 })}` });
      expect(answer.status).toBe(401);
      expect(stub.calls.length).toBe(before);
    });
  });
});

describe('RS256 and ES256 tokens verified through a JWKS served on loopback', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  let jwks: Server;
  let served: { keys: JWK[] } = { keys: [] };
  let jwksHits = 0;
  let jwksDown = false;
  const clock = manualClock(NOW);
  const rsa = generateKeyPair('RS256');
  const ec = generateKeyPair('ES256');
  const rotated = generateKeyPair('ES256');

  const publicJwk = async (pair: ReturnType<typeof generateKeyPair>, kid: string, alg: string) => ({
    ...(await exportJWK((await pair).publicKey)),
    kid,
    alg,
    use: 'sig',
  });
  const sign = async (pair: ReturnType<typeof generateKeyPair>, kid: string, alg: string, sub: string) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg, kid })
      .setIssuedAt(clock.now() / 1000)
      .setExpirationTime(clock.now() / 1000 + 300)
      .sign((await pair).privateKey);
  const run = (token: string) => post(`${gw.url}/flows/secure/run`, { authorization: `Bearer ${token}` });

  beforeAll(async () => {
    served = { keys: [await publicJwk(rsa, 'rsa-1', 'RS256'), await publicJwk(ec, 'ec-1', 'ES256')] };
    jwks = createServer((_req, res) => {
      jwksHits++;
      if (jwksDown) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
        auth: { jwt: { jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`, jwksCacheTtl: '10m' } },
        flows: { secure: {} },
      },
      { clock },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
    jwks.closeAllConnections();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  it('verifies RS256 and ES256 tokens with one JWKS fetch, cached', async () => {
    expect((await run(await sign(rsa, 'rsa-1', 'RS256', 'carol'))).res.status).toBe(200);
    expect((await run(await sign(ec, 'ec-1', 'ES256', 'dave'))).res.status).toBe(200);
    expect(jwksHits).toBe(1);
    expect(gw.logs.slice(-2).map((l) => l.caller)).toEqual(['jwt:carol', 'jwt:dave']);
  });

  it('refuses an HS256 token and a token signed by a key the JWKS does not hold', async () => {
    const hs = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(nowSeconds + 60)
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await run(hs)).json.Message).toBe("The token's signing algorithm is not accepted.");
    const stranger = generateKeyPair('ES256');
    const forged = await sign(stranger, 'ec-1', 'ES256', 'mallory'); // claims a known kid
    expect((await run(forged)).res.status).toBe(401);
  });

  it('fetches again for a new kid (key rotation), at most once per cooldown', async () => {
    const hitsBefore = jwksHits;
    const token = await sign(rotated, 'ec-2', 'ES256', 'erin');
    clock.advance(31_000); // past the refresh cooldown since the first fetch
    expect((await run(token)).res.status).toBe(401); // not published yet: one fetch, still unknown
    expect(jwksHits).toBe(hitsBefore + 1);
    served = { keys: [...served.keys, await publicJwk(rotated, 'ec-2', 'ES256')] };
    expect((await run(token)).res.status).toBe(401); // within the cooldown: no fetch
    expect(jwksHits).toBe(hitsBefore + 1);
    clock.advance(31_000);
    expect((await run(token)).res.status).toBe(200);
    expect(jwksHits).toBe(hitsBefore + 2);
  });

  it('keeps the cached keys when a refresh fails after the TTL', async () => {
    jwksDown = true;
    const hitsBefore = jwksHits;
    clock.advance(11 * 60_000);
    expect((await run(await sign(rsa, 'rsa-1', 'RS256', 'carol'))).res.status).toBe(200);
    expect(jwksHits).toBe(hitsBefore + 1);
    jwksDown = false;
  });
});

describe('a JWKS that cannot be fetched', () => {
  it('answers 503, not 401, while no keys were ever fetched', async () => {
    const stub = inProcessUpstream();
    const gw = inProcessGateway({
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
      auth: { jwt: { jwksUrl: 'http://127.0.0.1:1/jwks.json' } },
      flows: { secure: {} },
    });
    try {
      const pair = await generateKeyPair('RS256');
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime('5m').sign(pair.privateKey);
      const answer = await post(`${gw.url}/flows/secure/run`, { authorization: `Bearer ${token}` });
      expect(answer.res.status).toBe(503);
      expect(answer.json.Code).toBe('ServiceUnavailable');
      expect(stub.calls).toHaveLength(0);
    } finally {
      await gw.close();
      await stub.close();
    }
  });
});
