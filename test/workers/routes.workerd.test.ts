/**
 * `routes:`, an enforced `inputSchema` and `response: proxy` in the real workerd runtime (the Worker bundle as
 * wrangler builds it, in Miniflare), against the signature-verifying CloudFlow stub over real HTTP: the JSON Schema
 * validator must run where code generation is refused, and a route must get the same callers, limits (the Durable
 * Object) and cache (the Cache API) as a run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { postJson, send } from './helpers/http.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';

const KEY = 'edge-routes-key-0123456789abcdef';
const SECRETS = { ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret, APP_KEY: KEY };

const config = (upstreamUrl: string) => ({
  upstream: { endpoint: upstreamUrl, timeout: '2s' },
  callers: { app: { apiKeys: ['${APP_KEY}'] } },
  flows: {
    'get-order': {
      flowName: 'get_order',
      access: ['app'],
      cache: { ttl: '60s' },
      inputSchema: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'integer', minimum: 1 }, expand: { type: 'boolean' } } },
    },
    page: { access: 'public', response: 'proxy' },
    limited: { access: ['app'], rateLimit: { rate: '1/h', burst: 3 } },
  },
  routes: [
    { method: 'GET', path: '/v1/orders/:id', flow: 'get-order', input: { orderId: '{path.id}', expand: '{query.expand}' } },
    { method: 'POST', path: '/v1/orders/:id/check', flow: 'get-order', input: { orderId: '{path.id}', extra: '{body}' } },
    { method: 'GET', path: '/v1/pages/:slug', flow: 'page', input: { slug: '{path.slug}' } },
    { method: 'GET', path: '/v1/limited/:id', flow: 'limited', input: { id: '{path.id}' } },
  ],
});

let build: WorkerBuild;
let stub: UpstreamStub;
let edge: WorkerdGateway;

beforeAll(async () => {
  [build, stub] = await Promise.all([buildWorker(), startUpstreamStub()]);
  echo();
  edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(config(stub.url)), ...SECRETS });
}, 90_000);

afterAll(async () => {
  await edge?.close();
  await stub?.close();
  await build?.remove();
});

const echo = () => stub.respond((call) => succeeded({ input: JSON.parse(call.form.Input ?? '{}') }, call));
afterEach(echo);

const get = (path: string, headers: Record<string, string> = { 'x-api-key': KEY }) => send(`${edge.url}${path}`, { headers });

describe('routes in workerd', () => {
  it('builds the Input from the path and query, converted by the inputSchema, and caches a GET route by it', async () => {
    const before = stub.calls.length;
    const first = await get('/v1/orders/42?expand=true');
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ input: { orderId: 42, expand: true } });
    expect(stub.calls.at(-1)!.form.Input).toBe('{"orderId":42,"expand":true}');
    expect(first.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    const again = await get('/v1/orders/042?expand=true');
    expect(again.headers.get('cache-status')).toMatch(/^flowgate; hit/);
    expect(stub.calls.length).toBe(before + 1);
  });

  it('a value that does not convert and an Input the schema refuses are 400 before any upstream call', async () => {
    const before = stub.calls.length;
    const bad = await get('/v1/orders/x');
    expect([bad.status, bad.json?.Message]).toEqual([400, 'Parameter error. The path parameter "id" must be an integer.']);
    const refused = await get('/v1/orders/0');
    expect(refused.status).toBe(400);
    expect(refused.json?.Errors).toEqual([{ Pointer: '/orderId', Keyword: 'minimum' }]);
    const viaRun = await postJson(`${edge.url}/flows/get-order/run`, '{"orderId":"secret-text"}', { 'x-api-key': KEY });
    expect(viaRun.json?.Errors).toEqual([{ Pointer: '/orderId', Keyword: 'type' }]);
    expect(viaRun.text).not.toContain('secret-text');
    expect(stub.calls.length).toBe(before);
  });

  it('{body} is spliced in as sent; unknown paths are 404 and a wrong method 405 with Allow', async () => {
    const res = await postJson(`${edge.url}/v1/orders/7/check`, '{"n":12345678901234567890}', { 'x-api-key': KEY, 'cache-control': 'no-store' });
    expect(res.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe('{"orderId":7,"extra":{"n":12345678901234567890}}');
    const missing = await get('/v2/nothing');
    expect([missing.status, missing.json?.Code]).toEqual([404, 'NotFound']);
    const wrong = await send(`${edge.url}/v1/orders/7`, { method: 'DELETE', headers: { 'x-api-key': KEY } });
    expect([wrong.status, wrong.json?.Code, wrong.headers.get('allow')]).toEqual([405, 'MethodNotAllowed', 'GET, HEAD']);
  });

  it("a route is behind the flow's caller list and its limit", async () => {
    expect((await get('/v1/limited/9', {})).status).toBe(401);
    const statuses: number[] = [];
    // Burst 3 per hour: the limiter's Durable Object refuses the rest.
    for (let i = 0; i < 5; i++) statuses.push((await get(`/v1/limited/${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('response: proxy shapes the answer, through the header allow-list', async () => {
    stub.respond((call) => succeeded({ statusCode: 201, headers: { 'x-page': 'p', 'set-cookie': 'a=b', 'x-request-id': 'forged' }, body: '<p>hi</p>' }, call));
    const res = await send(`${edge.url}/v1/pages/home`, { headers: { 'x-request-id': 'edge-proxy-1' } });
    expect(res.status).toBe(201);
    expect(res.text).toBe('<p>hi</p>');
    expect(res.headers.get('x-page')).toBe('p');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-request-id')).toBe('edge-proxy-1');
  });
});
