/**
 * `auth.failureLimit` through the gateway: bad credentials are counted per client address, and past the limit
 * the address gets 429 before any credential is judged; with Redis the count holds across two gateways.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const T0 = Date.UTC(2025, 0, 1);
const GOOD_KEY = 'good-key-0123456789abcdef';
const JWT_SECRET = 'jwt-secret-0123456789abcdef0123456789';

describe('failed authentications are limited per client address', () => {
  let stub: UpstreamStub;
  const clock = manualClock(T0);
  const gateways: InProcessGateway[] = [];
  const start = async (extra: Record<string, unknown>) => {
    const gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        callers: { app: { apiKeys: [GOOD_KEY] } },
        auth: { jwt: { secret: JWT_SECRET }, failureLimit: { rate: '1/10s', burst: 3 } },
        flows: { hello: { flowName: 'hello' } },
        ...extra,
      },
      { clock },
    );
    gateways.push(gw);
    return gw;
  };

  beforeAll(() => {
    stub = inProcessUpstream();
  });
  beforeEach(() => clock.set(T0));
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await stub.close();
    const logged = JSON.stringify(gateways.flatMap((gw) => gw.logs));
    expect(logged).not.toMatch(/wrong-key-|good-key-/);
  });

  const call = (gw: InProcessGateway, headers: Record<string, string>) => gw.send(`${gw.url}/flows/hello/run`, { body: '{}', headers });
  const wrongKey = () => `wrong-key-${randomUUID()}`;

  it('answers 429 once the burst of bad keys is spent, even for the right key, and recovers at the rate', async () => {
    const gw = await start({ server: { trustProxy: true }, storeOptions: { keyPrefix: `test:${randomUUID()}:` } });
    const from = { 'x-forwarded-for': '203.0.113.10' };
    for (let i = 0; i < 3; i++) {
      const bad = await call(gw, { ...from, 'x-api-key': wrongKey() });
      expect(bad.status).toBe(401);
      expect(bad.json).toMatchObject({ Code: 'InvalidCredentials' });
    }
    const held = await call(gw, { ...from, 'x-api-key': wrongKey() });
    expect(held.status).toBe(429);
    expect(held.json).toMatchObject({ Code: 'ResourceThrottled' });
    expect(held.headers.get('retry-after')).toBe('10');
    expect(held.headers.get('ratelimit-policy')).toBe('"auth-failures";q=3;w=30');
    expect(held.headers.get('ratelimit')).toBe('"auth-failures";r=0;t=10');
    // The right key from the same address gets the same answer: the credential is not judged at all.
    const right = await call(gw, { ...from, 'x-api-key': GOOD_KEY });
    expect(right.status).toBe(429);
    expect(right.text.replace(/"RequestId":"[^"]*"/, '')).toBe(held.text.replace(/"RequestId":"[^"]*"/, ''));
    // A bad token counts the same way.
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(T0 / 1000 + 600)
      .sign(new TextEncoder().encode('x'.repeat(40)));
    expect((await call(gw, { ...from, authorization: `Bearer ${token}` })).status).toBe(429);

    // A good key from another address is unaffected.
    expect((await call(gw, { 'x-forwarded-for': '203.0.113.11', 'x-api-key': GOOD_KEY })).status).toBe(200);
    // Refusals spent nothing: one interval later exactly one failure fits again.
    clock.advance(10_000);
    expect((await call(gw, { ...from, 'x-api-key': GOOD_KEY })).status).toBe(200);
    expect((await call(gw, { ...from, 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(gw, { ...from, 'x-api-key': GOOD_KEY })).status).toBe(429);
    const line = gw.logs.find((l) => l.status === 429 && l.rateLimited === 'local');
    expect(line).toMatchObject({ detail: 'too many failed authentications from this address' });
  });

  it('counts bad tokens, and good credentials never spend the budget', async () => {
    const gw = await start({ server: { trustProxy: true }, storeOptions: { keyPrefix: `test:${randomUUID()}:` } });
    const from = { 'x-forwarded-for': '203.0.113.20' };
    for (let i = 0; i < 10; i++) expect((await call(gw, { ...from, 'x-api-key': GOOD_KEY })).status).toBe(200);
    const forged = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(T0 / 1000 + 600)
      .sign(new TextEncoder().encode('y'.repeat(40)));
    for (let i = 0; i < 3; i++) expect((await call(gw, { ...from, authorization: `Bearer ${forged}` })).status).toBe(401);
    expect((await call(gw, { ...from, authorization: `Bearer ${forged}` })).status).toBe(429);
  });

  it('keys by the peer address unless trustProxy: forwarded headers cannot dodge the count', async () => {
    const gw = await start({ storeOptions: { keyPrefix: `test:${randomUUID()}:` } });
    for (let i = 0; i < 3; i++) expect((await call(gw, { 'x-forwarded-for': `192.0.2.${i}`, 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(gw, { 'x-forwarded-for': '192.0.2.99', 'x-api-key': GOOD_KEY })).status).toBe(429);
  });

  it('holds across two gateways sharing Redis', async () => {
    const shared = { store: REDIS_URL, server: { trustProxy: true }, storeOptions: { keyPrefix: `test:${randomUUID()}:` } };
    const a = await start(shared);
    const b = await start(shared);
    const from = { 'x-forwarded-for': '203.0.113.30' };
    expect((await call(a, { ...from, 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(b, { ...from, 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(a, { ...from, 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(b, { ...from, 'x-api-key': GOOD_KEY })).status).toBe(429);
    expect((await call(a, { 'x-forwarded-for': '203.0.113.31', 'x-api-key': GOOD_KEY })).status).toBe(200);
  });

  it('follows storeOptions.onError when the store fails: open judges credentials as usual, closed answers 503', async () => {
    const counters: Record<string, number> = {};
    const open = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        store: 'redis://127.0.0.1:1',
        callers: { app: { apiKeys: [GOOD_KEY] } },
        auth: { failureLimit: { rate: '1/10s', burst: 1 } },
        flows: { hello: {} },
      },
      { clock, counters },
    );
    gateways.push(open);
    for (let i = 0; i < 3; i++) expect((await call(open, { 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(open, { 'x-api-key': GOOD_KEY })).status).toBe(200);
    expect(counters).toMatchObject({ 'auth_failures.store_errors': 7, 'auth_failures.failed_open': 7 });
    const closed = await start({ store: 'redis://127.0.0.1:1', storeOptions: { onError: 'closed' } });
    const refused = await call(closed, { 'x-api-key': GOOD_KEY });
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ Code: 'ServiceUnavailable' });
  });

  it('can be turned off', async () => {
    const gw = await start({ auth: { failureLimit: false }, storeOptions: { keyPrefix: `test:${randomUUID()}:` } });
    for (let i = 0; i < 25; i++) expect((await call(gw, { 'x-api-key': wrongKey() })).status).toBe(401);
    expect((await call(gw, { 'x-api-key': GOOD_KEY })).status).toBe(200);
  });
});
