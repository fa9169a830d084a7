/**
 * CORS as a browser sees it: each request goes through the Fetch standard's preflight and CORS check
 * (test/helpers/browser-cors.ts) against the gateway, with and without credentials.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { browserFetch as browserFetchOver, type BrowserFetch } from '../helpers/browser-cors.js';
import { fetchInProcess, inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

/** What a browser does, against the in-process gateway the URL names. */
const browserFetch = (url: string, request: BrowserFetch, body?: string) => browserFetchOver(url, request, body, fetchInProcess);

const APP = 'https://app.example';
const KEY = 'app-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdef';
const JWT_SECRET = 'jwt-secret-0123456789abcdef0123456789';

const config = (stubUrl: string, cors: unknown) => ({
  upstream: { endpoint: stubUrl, credentials: TEST_CREDENTIALS, timeout: '2s' },
  server: { cors },
  callers: { app: { apiKeys: [KEY] }, ops: { apiKeys: [ADMIN], admin: true } },
  auth: { jwt: { secret: JWT_SECRET } },
  flows: {
    hello: { access: ['app', 'jwt:*'], cache: { ttl: '60s' } },
    orders: { access: ['app'], idempotency: { ttl: '1h' } },
  },
});

const token = () =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('user-1').setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));

const post = (origin: string, headers: Record<string, string>, credentials: boolean): BrowserFetch => ({
  origin,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  credentials,
});

let stub: UpstreamStub;

beforeAll(() => {
  stub = inProcessUpstream();
  stub.respond((call) => succeeded({ hello: 'world', n: stub.calls.length }, call));
});

afterAll(async () => {
  await stub?.close();
});

describe('every origin, no credentials (cors: true)', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = inProcessGateway(config(stub.url, true));
  });
  afterAll(async () => {
    await gw.close();
  });

  it('a page posts with an API key, an Idempotency-Key or a bearer token and reads the answer and its headers', async () => {
    for (const headers of [{ 'x-api-key': KEY }, { authorization: `Bearer ${await token()}` }] as Record<string, string>[]) {
      const result = await browserFetch(`${gw.url}/flows/hello/run`, post('https://any.example', headers, false), '{}');
      expect(result.failure).toBeUndefined();
      expect(result.response!.status).toBe(200);
      expect(result.preflight!.status).toBe(204);
      if (result.failure === undefined) {
        for (const name of ['X-Request-Id', 'X-Execution-Name', 'Cache-Status', 'RateLimit-Policy', 'Server-Timing'])
          expect(result.readable(name), name).toBe(true);
      }
    }
    const idempotent = await browserFetch(
      `${gw.url}/flows/orders/run`,
      post('https://any.example', { 'x-api-key': KEY, 'idempotency-key': 'k-1' }, false),
      '{}',
    );
    expect(idempotent.failure).toBeUndefined();
    expect(idempotent.response!.status).toBe(200);
  });

  it('"*" answers do not vary by origin, and a credentialed request is refused by the browser as configured', async () => {
    const result = await browserFetch(`${gw.url}/flows/hello/run`, post('https://any.example', { 'x-api-key': KEY }, false), '{}');
    expect(result.response!.headers.get('access-control-allow-origin')).toBe('*');
    expect(result.response!.headers.get('access-control-allow-credentials')).toBeNull();
    const credentialed = await browserFetch(`${gw.url}/flows/hello/run`, post('https://any.example', { 'x-api-key': KEY }, true), '{}');
    expect(credentialed.failure).toBe("preflight: Access-Control-Allow-Origin is *, not the page's origin");
  });
});

describe('listed origins with credentials', () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    gw = inProcessGateway(config(stub.url, { origins: [APP, 'http://localhost:5173'], credentials: true, maxAge: 600 }));
  });
  afterAll(async () => {
    await gw.close();
  });

  it('a listed origin passes the preflight and the CORS check, with and without credentials', async () => {
    for (const credentials of [true, false]) {
      const result = await browserFetch(`${gw.url}/flows/hello/run`, post(APP, { 'x-api-key': KEY }, credentials), '{}');
      expect(result.failure).toBeUndefined();
      expect(result.response!.status).toBe(200);
      const preflight = result.preflight!;
      expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(preflight.headers.get('access-control-max-age')).toBe('600');
      expect(preflight.headers.get('vary')).toMatch(/\bOrigin\b/);
      expect(result.response!.headers.get('access-control-allow-origin')).toBe(APP);
      expect(result.response!.headers.get('vary')).toMatch(/\bOrigin\b/);
      if (result.failure === undefined) expect(result.readable('X-Request-Id')).toBe(true);
    }
  });

  it('errors are readable by the page too, so it can show the envelope', async () => {
    const result = await browserFetch(`${gw.url}/flows/hello/run`, post(APP, { 'x-api-key': 'wrong-key-0123456789abcdef' }, true), '{}');
    expect(result.failure).toBeUndefined();
    expect(result.response!.status).toBe(401);
    expect(((await result.response!.json()) as { Code: string }).Code).toBe('InvalidCredentials');
  });

  it('an admin page may purge (DELETE passes the preflight)', async () => {
    const result = await browserFetch(`${gw.url}/flows/hello/cache`, { origin: APP, method: 'DELETE', headers: { 'x-api-key': ADMIN }, credentials: true });
    expect(result.failure).toBeUndefined();
    expect(result.response!.status).toBe(200);
  });

  it('another origin is refused at the preflight, and at the CORS check of a simple request', async () => {
    const preflighted = await browserFetch(`${gw.url}/flows/hello/run`, post('https://evil.example', { 'x-api-key': KEY }, true), '{}');
    expect(preflighted.failure).toBe('preflight: no Access-Control-Allow-Origin');
    const simple = await browserFetch(`${gw.url}/flows`, { origin: 'https://evil.example', method: 'GET', headers: {}, credentials: true });
    expect(simple.failure).toBe('no Access-Control-Allow-Origin');
  });

  it('every answer says it varies by Origin, so a shared cache never hands one origin’s answer to another', async () => {
    for (const headers of [{}, { origin: 'https://evil.example' }, { origin: APP }] as Record<string, string>[]) {
      const res = await gw.fetch(`${gw.url}/flows`, { headers });
      await res.arrayBuffer();
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });
});

describe('allowHeaders with "*" (no credentials)', () => {
  it('covers X-API-Key; a bearer token passes only because Authorization is listed by name', async () => {
    const gw = inProcessGateway(config(stub.url, { origins: [APP], allowHeaders: ['*', 'Authorization'] }));
    try {
      const key = await browserFetch(`${gw.url}/flows/hello/run`, post(APP, { 'x-api-key': KEY }, false), '{}');
      expect(key.failure).toBeUndefined();
      const bearer = await browserFetch(`${gw.url}/flows/hello/run`, post(APP, { authorization: `Bearer ${await token()}` }, false), '{}');
      expect(bearer.failure).toBeUndefined();
      expect(bearer.response!.status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('configs browsers cannot use do not start', () => {
  it.each([
    ['credentials with every origin', { credentials: true }],
    ['"*" as the only allowed header while tokens need Authorization', { allowHeaders: ['*'] }],
    ['an origin with a trailing slash', { origins: [`${APP}/`] }],
  ])('%s', async (_what, cors) => {
    expect(() => inProcessGateway(config(stub.url, cors))).toThrow(ConfigError);
  });
});
