import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { rateLimit } from '../../src/middleware/rate-limit.js';
import { memoryRateLimitStore } from '../../src/ratelimit/stores/memory.js';
import { policyResolver } from '../../src/ratelimit/policies.js';
import { rateLimitHeaders, retryAfterSeconds } from '../../src/ratelimit/headers.js';
import { manualClock } from '../../src/lib/clock.js';
import { jwtVerifier, looksLikeJwt } from '../../src/auth/jwt.js';
import type { FlowConfig } from '../../src/config/load.js';

const base = { upstream: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', accessKeySecret: 'b' } }, flows: { hello: {} } };

function issues(raw: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, ...raw }, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('rate-limit and caller config', () => {
  it('names the key path of a bad rate, burst or quota', () => {
    expect(issues({ callers: { app: { apiKeys: ['k'.repeat(16)], rateLimit: { rate: 'fast', burst: 40 } } } })).toEqual([
      'callers.app.rateLimit.rate: expected a rate such as "20/s", "100/1m" or "10000/d"',
    ]);
    expect(issues({ flows: { hello: { rateLimit: { rate: '5/s', burst: 0 } } } })[0]).toMatch(/^flows\.hello\.rateLimit\.burst: /);
    expect(issues({ anonymous: { rateLimit: { quota: '2.5/d' } } })).toEqual(['anonymous.rateLimit.quota: a quota counts whole requests, such as "10000/d"']);
    expect(issues({ anonymous: { rateLimit: { burst: 3 } } })).toEqual(['anonymous.rateLimit: a rate limit needs "rate" or "quota"']);
    expect(issues({ auth: { jwt: { secret: 's'.repeat(32), defaultRateLimit: { rate: '5 per second' } } } })[0]).toMatch(
      /^auth\.jwt\.defaultRateLimit\.rate: /,
    );
  });

  it('parses rates, default bursts and quotas into numbers', () => {
    const config = parseConfig(
      {
        ...base,
        callers: { app: { apiKeys: ['k'.repeat(16)], rateLimit: { rate: '20/s', quota: '10000/d' } } },
        flows: { hello: { rateLimit: { rate: '100/1m', burst: 5 } } },
      },
      {},
    );
    expect(config.callers.app!.rateLimit).toEqual({ rate: { count: 20, periodMs: 1000 }, burst: 20, quota: { count: 10000, periodMs: 86_400_000 } });
    expect(config.flows.hello!.rateLimit).toEqual({ rate: { count: 100, periodMs: 60_000 }, burst: 5, quota: undefined });
    expect(config.storeOptions).toMatchObject({ timeout: 250, onError: 'open', keyPrefix: 'flowgate:', maxKeys: 100_000 });
  });

  it('checks the store settings', () => {
    expect(issues({ store: 'memcached://x' })).toEqual([
      'store: must be one of memory, redis://, rediss://, redis+cluster://h:p,h:p, rediss+cluster://…, redis+sentinel://h:p,h:p/masterName or rediss+sentinel://…',
    ]);
    expect(issues({ storeOptions: { onError: 'maybe' } })[0]).toMatch(/^storeOptions\.onError: /);
    expect(issues({ storeOptions: { maxKeys: 0 } })[0]).toMatch(/^storeOptions\.maxKeys: /);
    expect(issues({ storeOptions: { timeout: 'soon' } })[0]).toMatch(/^storeOptions\.timeout: /);
  });

  it('checks the JWT settings without echoing the secret', () => {
    expect(issues({ auth: { jwt: { secret: 'short-secret' } } })).toEqual(['auth.jwt.secret: must be at least 32 bytes for HS256']);
    expect(issues({ auth: { jwt: { secret: 's'.repeat(32), jwksUrl: 'https://issuer.example/jwks' } } })).toEqual([
      'auth.jwt: set exactly one of "secret" (HS*) or "jwksUrl" (RS*/ES*)',
    ]);
    expect(issues({ auth: { jwt: { jwksUrl: 'https://issuer.example/jwks', algorithms: ['RS256', 'HS256'] } } })).toEqual([
      'auth.jwt.algorithms.1: HS256 needs "secret", not "jwksUrl"',
    ]);
    expect(issues({ auth: { jwt: { secret: 's'.repeat(32), algorithms: ['ES256'] } } })).toEqual([
      'auth.jwt.algorithms.0: ES256 needs "jwksUrl", not "secret"',
    ]);
    expect(issues({ auth: { jwt: { jwksUrl: 'not a url' } } })[0]).toMatch(/^auth\.jwt\.jwksUrl: /);
    expect(issues({ auth: { jwt: { secret: 's'.repeat(32), clockSkew: 'a bit' } } })[0]).toMatch(/^auth\.jwt\.clockSkew: /);
    expect(JSON.stringify(issues({ auth: { jwt: { secret: 'short-secret-value' } } }))).not.toContain('short-secret-value');
  });

  it('reserves the id prefixes of token and anonymous callers', () => {
    expect(issues({ callers: { 'jwt:alice': { apiKeys: ['k'.repeat(16)] } } })).toEqual([
      'callers.jwt:alice: names starting with "ip:", "jwt:" or "webhook:" are reserved',
    ]);
  });
});

describe('factories refuse bad options', () => {
  const common = { store: memoryRateLimitStore(), policies: () => [], clock: manualClock(), log: () => {} };
  it('rateLimit', () => {
    expect(() => rateLimit({ ...common, onError: 'sometimes' as 'open' })).toThrow(TypeError);
    expect(() => rateLimit({ ...common, store: {} as never, onError: 'open' })).toThrow(TypeError);
  });
  it('jwtVerifier', () => {
    const opts = { callerClaim: 'sub', clockSkewMs: 0, jwksCacheTtlMs: 1000, requireExpiration: true, clock: manualClock(), fetch };
    expect(() => jwtVerifier(opts)).toThrow(TypeError);
    expect(() => jwtVerifier({ ...opts, secret: 's'.repeat(32), jwksUrl: 'https://x' })).toThrow(TypeError);
  });
});

describe('policies and headers', () => {
  const config = parseConfig(
    {
      ...base,
      callers: { app: { apiKeys: ['k'.repeat(16)], rateLimit: { rate: '20/s', burst: 40, quota: '10000/d' } }, free: { apiKeys: ['f'.repeat(16)] } },
      auth: { jwt: { secret: 's'.repeat(32), defaultRateLimit: { rate: '1/s' } } },
      anonymous: { rateLimit: { rate: '2/s' } },
      flows: { hello: { rateLimit: { rate: '5/s', burst: 10 } } },
    },
    {},
  );
  const resolve = policyResolver(config, 'fg:');
  const flow = config.flows.hello as FlowConfig;
  const now = Date.UTC(2024, 0, 1, 6);

  it('gives each kind of caller its caller-wide limit plus the flow limit, keyed in one hash slot', () => {
    expect(resolve({ id: 'app', kind: 'key', name: 'app', admin: false }, flow, now)).toEqual([
      { kind: 'gcra', name: 'caller', key: 'fg:rl:{app}:caller', intervalMs: 50, burst: 40 },
      {
        kind: 'window',
        name: 'quota',
        key: `fg:rl:{app}:caller:q:${Math.floor(now / 86_400_000)}`,
        limit: 10000,
        windowMs: 86_400_000,
        windowEnd: Date.UTC(2024, 0, 2),
      },
      { kind: 'gcra', name: 'flow', key: 'fg:rl:{app}:flow:hello', intervalMs: 200, burst: 10 },
    ]);
    expect(resolve({ id: 'free', kind: 'key', name: 'free', admin: false }, flow, now).map((p) => p.name)).toEqual(['flow']);
    expect(resolve({ id: 'jwt:bob', kind: 'jwt', admin: false }, flow, now)[0]).toMatchObject({ key: 'fg:rl:{jwt:bob}:caller', intervalMs: 1000, burst: 1 });
    // A token naming a configured caller is that caller: its own limits (here none), not auth.jwt.defaultRateLimit.
    expect(resolve({ id: 'free', kind: 'jwt', name: 'free', admin: false }, flow, now).map((p) => p.name)).toEqual(['flow']);
    expect(resolve({ id: 'app', kind: 'jwt', name: 'app', admin: false }, flow, now)).toEqual(
      resolve({ id: 'app', kind: 'key', name: 'app', admin: false }, flow, now),
    );
    expect(resolve({ id: 'ip:203.0.113.7', kind: 'anonymous', admin: false }, flow, now)[0]).toMatchObject({ intervalMs: 500, burst: 2 });
  });

  it('builds the RateLimit fields as structured-field lists', () => {
    const policies = resolve({ id: 'app', kind: 'key', name: 'app', admin: false }, flow, now);
    const headers = rateLimitHeaders(policies, {
      allowed: false,
      states: [
        { name: 'caller', allowed: true, remaining: 12, resetMs: 1400, retryAfterMs: 0 },
        { name: 'quota', allowed: true, remaining: 9876, resetMs: 64_800_000, retryAfterMs: 0 },
        { name: 'flow', allowed: false, remaining: 0, resetMs: 2000, retryAfterMs: 150 },
      ],
    });
    expect(headers).toEqual({
      'ratelimit-policy': '"caller";q=40;w=2, "quota";q=10000;w=86400, "flow";q=10;w=2',
      ratelimit: '"caller";r=12;t=2, "quota";r=9876;t=64800, "flow";r=0;t=1',
    });
    expect(
      rateLimitHeaders([{ kind: 'gcra', name: 'we"ird\\', key: 'k', intervalMs: 1, burst: 1 }], {
        allowed: true,
        states: [{ name: 'we"ird\\', allowed: true, remaining: 0, resetMs: 1, retryAfterMs: 0 }],
      })['ratelimit-policy'],
    ).toBe('"we\\"ird\\\\";q=1;w=1');
  });

  it('rounds Retry-After up to whole seconds, never to 0', () => {
    expect([1, 999, 1000, 1001, 72_000].map(retryAfterSeconds)).toEqual(['1', '1', '1', '2', '72']);
    expect(retryAfterSeconds(0)).toBe('1');
  });
});

describe('telling JWTs from API keys', () => {
  it('recognises compact JWS only', () => {
    expect(looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.')).toBe(true);
    expect(looksLikeJwt('mobile-key-0123456789abcdef')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(false);
    expect(looksLikeJwt('eyJ.x.y.z')).toBe(false);
  });
});
