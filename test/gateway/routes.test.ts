/**
 * `routes:` through the gateway in process: each template source, each conversion and the 400s it gives, 404 and
 * 405 in the envelope, `inputSchema` enforced on routes and on /flows/{name}/run alike, and the run pipeline a
 * route shares: callers and access, rate limits, the response cache, Idempotency-Key and CORS preflights.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const APP = 'app-key-0123456789abcdef';
const OTHER = 'other-key-0123456789abcd';
const NOW = Date.UTC(2026, 0, 1);

const orderSchema = {
  type: 'object',
  required: ['orderId'],
  properties: {
    orderId: { type: 'integer', minimum: 1 },
    expand: { type: 'boolean' },
    ratio: { type: 'number' },
    tags: { type: 'array', items: { type: 'integer' } },
    channel: { type: 'string' },
  },
};

const config = (stubUrl: string) => ({
  upstream: { endpoint: stubUrl, credentials: TEST_CREDENTIALS },
  server: { cors: { origins: ['https://app.example'], allowHeaders: ['Content-Type', 'X-API-Key', 'X-Channel', 'Idempotency-Key'] } },
  callers: { app: { apiKeys: [APP] }, other: { apiKeys: [OTHER] } },
  flows: {
    'get-order': { flowName: 'get_order', access: ['app'], inputSchema: orderSchema, cache: { ttl: '60s' }, rateLimit: { rate: '3/1m', burst: 3 } },
    'add-note': { flowName: 'add_note', access: 'authenticated' },
    'create-order': {
      flowName: 'create_order',
      access: 'authenticated',
      idempotency: { ttl: '1h' },
      inputSchema: {
        type: 'object',
        required: ['item', 'quantity'],
        additionalProperties: false,
        properties: { item: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
      },
    },
    echo: { flowName: 'echo', access: 'authenticated' },
    later: { flowName: 'later', access: 'authenticated', mode: 'ack' },
  },
  routes: [
    {
      method: 'GET',
      path: '/v1/orders/:id',
      flow: 'get-order',
      input: { orderId: '{path.id}', expand: '{query.expand}', ratio: '{query.ratio}', channel: '{headers.x-channel}' },
    },
    { method: 'GET', path: '/v1/orders/:id/tags/:tag', flow: 'get-order', input: { orderId: '{path.id}', tags: ['{path.tag}', '{query.also}', 7] } },
    { method: 'POST', path: '/v1/orders', flow: 'create-order', input: '{body}' },
    {
      method: 'PUT',
      path: '/v1/orders/:id/notes',
      flow: 'add-note',
      input: { orderId: '{path.id}', note: '{body}', channel: '{headers.x-channel}', source: 'api', n: 1, on: true, none: null },
    },
    { method: 'POST', path: '/v1/orders/new', flow: 'echo', input: { kind: 'new' } },
    { method: 'DELETE', path: '/v1/echo/:name', flow: 'echo' },
    { method: 'POST', path: '/v1/jobs/:kind', flow: 'later', input: { kind: '{path.kind}', spec: '{body}' } },
  ],
});

describe('routes', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW);

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(config(stub.url), { clock });
  });
  afterEach(() => {
    stub.respond((call) => succeeded({ flow: call.form.FlowName, input: JSON.parse(call.form.Input ?? '{}') }, call));
    // Each test starts with a full rate-limit budget.
    clock.advance(3_600_000);
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => gw.send(`${gw.url}${path}`, { headers: { 'x-api-key': APP, ...headers } });
  const lastInput = () => stub.calls.at(-1)!.form.Input!;

  it('GET builds the Input from path, query and a named header, converting to the types the inputSchema gives', async () => {
    stub.respond((call) => succeeded({ ok: true }, call));
    const res = await get('/v1/orders/42?expand=true&ratio=2.5e1&ignored=x', { 'x-channel': 'web', 'x-other': 'never read' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
    expect(JSON.parse(lastInput())).toEqual({ orderId: 42, expand: true, ratio: 25, channel: 'web' });
    expect(stub.calls.at(-1)!.form.FlowName).toBe('get_order');
    expect(lastInput()).not.toContain('never read');
    const log = gw.logs.find((l) => l.requestId === res.headers.get('x-request-id'));
    expect(log).toMatchObject({ flow: 'get-order', route: 'GET /v1/orders/:id', status: 200 });
  });

  it('a missing query parameter or header leaves its key out, in objects and arrays alike', async () => {
    await get('/v1/orders/7');
    expect(JSON.parse(lastInput())).toEqual({ orderId: 7 });
    await get('/v1/orders/7/tags/3');
    expect(JSON.parse(lastInput())).toEqual({ orderId: 7, tags: [3, 7] });
    await get('/v1/orders/7/tags/3?also=4');
    expect(JSON.parse(lastInput())).toEqual({ orderId: 7, tags: [3, 4, 7] });
  });

  it('an integer keeps every digit, leading zeros dropped; path parameters are percent-decoded', async () => {
    await get('/v1/orders/0012345678901234567890');
    expect(lastInput()).toBe('{"orderId":12345678901234567890}');
    await gw.send(`${gw.url}/v1/orders/a%2Fb%20c/notes`, { method: 'PUT', body: '"hi"', headers: { 'x-api-key': APP } });
    expect(JSON.parse(lastInput())).toMatchObject({ orderId: 'a/b c' });
  });

  it.each([
    ['/v1/orders/abc', 'The path parameter "id" must be an integer.'],
    ['/v1/orders/1.5', 'The path parameter "id" must be an integer.'],
    ['/v1/orders/1?expand=yes', 'The query parameter "expand" must be true or false.'],
    ['/v1/orders/1?expand=', 'The query parameter "expand" must be true or false.'],
    ['/v1/orders/1?ratio=1e999', 'The query parameter "ratio" must be a number.'],
    ['/v1/orders/1?ratio=0x10', 'The query parameter "ratio" must be a number.'],
    ['/v1/orders/1/tags/x', 'The path parameter "tag" must be an integer.'],
  ])('%s is 400 InvalidArgument naming the parameter, not its value, before any upstream call', async (path, detail) => {
    const before = stub.calls.length;
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ RequestId: res.headers.get('x-request-id'), Code: 'InvalidArgument', Message: `Parameter error. ${detail}` });
    expect(stub.calls.length).toBe(before);
  });

  it('a header typed by the schema is converted too, and a bad one is 400', async () => {
    const res = await gw.send(`${gw.url}/v1/orders/5/notes`, { method: 'PUT', body: '{"text":"x"}', headers: { 'x-api-key': APP, 'x-channel': 'app' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(lastInput())).toEqual({ orderId: '5', note: { text: 'x' }, channel: 'app', source: 'api', n: 1, on: true, none: null });
  });

  it('{body} nested keeps the body text exact; an empty body leaves the key out; a body that is not JSON is 400', async () => {
    const put = (body: string, headers: Record<string, string> = {}) =>
      gw.send(`${gw.url}/v1/orders/5/notes`, { method: 'PUT', body, headers: { 'x-api-key': APP, ...headers } });
    expect((await put('{"big":12345678901234567890}')).status).toBe(200);
    expect(lastInput()).toBe('{"orderId":"5","note":{"big":12345678901234567890},"source":"api","n":1,"on":true,"none":null}');
    expect((await put('')).status).toBe(200);
    expect(JSON.parse(lastInput())).not.toHaveProperty('note');
    expect((await put(' \t\r\n')).status).toBe(200);
    expect(JSON.parse(lastInput())).not.toHaveProperty('note');
    // Only JSON's own whitespace is nothing: a no-break space or a second byte order mark is text that is not JSON.
    for (const blank of ['\u00a0', '\u3000', '\ufeff\ufeff']) expect((await put(blank)).json?.Message).toBe('Parameter error. The body is not valid JSON.');
    const bad = await put('{nope');
    expect(bad.status).toBe(400);
    expect(bad.json?.Message).toBe('Parameter error. The body is not valid JSON.');
    expect((await put('"x"', { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('{body} as the whole Input must be a JSON object, as on /flows/{name}/run', async () => {
    const post = (body: string) => gw.send(`${gw.url}/v1/orders`, { method: 'POST', body, headers: { 'x-api-key': APP } });
    expect((await post('[1]')).json?.Message).toBe('Parameter error. The body must be a JSON object, got an array.');
    const ok = await post('{"item":"book","quantity":2}');
    expect(ok.status).toBe(200);
    expect(lastInput()).toBe('{"item":"book","quantity":2}');
  });

  it('inputSchema: a non-matching Input is 400 with each failing pointer and keyword, never a value, and no upstream call', async () => {
    const before = stub.calls.length;
    const res = await gw.send(`${gw.url}/v1/orders`, {
      method: 'POST',
      body: '{"item":"secret-value-1","quantity":0,"extra":"secret-value-2"}',
      headers: { 'x-api-key': APP },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      Code: 'InvalidArgument',
      Errors: [
        { Pointer: '/quantity', Keyword: 'minimum' },
        { Pointer: '/extra', Keyword: 'additionalProperties' },
      ],
    });
    expect(res.json?.Message).toBe("Parameter error. The Input does not match the flow's inputSchema at /quantity (minimum), /extra (additionalProperties).");
    expect(res.text).not.toContain('secret-value');
    expect(stub.calls.length).toBe(before);
    const missing = await gw.send(`${gw.url}/flows/create-order/run`, { body: '{}', headers: { 'x-api-key': APP } });
    expect(missing.status).toBe(400);
    expect(missing.json?.Errors).toEqual([{ Pointer: '', Keyword: 'required' }]);
    expect(stub.calls.length).toBe(before);
  });

  it('inputSchema lists at most 10 failing places', async () => {
    const body = JSON.stringify({ item: 'x', quantity: 1, ...Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])) });
    const res = await gw.send(`${gw.url}/flows/create-order/run`, { body, headers: { 'x-api-key': APP } });
    expect(res.status).toBe(400);
    expect(res.json?.Errors).toHaveLength(10);
  });

  it('unknown paths are 404 NotFound and a known path with another method is 405 with Allow, in the envelope', async () => {
    const missing = await get('/v1/nothing');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ RequestId: missing.headers.get('x-request-id'), Code: 'NotFound', Message: 'The requested resource does not exist.' });
    const wrong = await gw.send(`${gw.url}/v1/orders/42`, { method: 'POST', body: '{}', headers: { 'x-api-key': APP } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(wrong.json).toMatchObject({ Code: 'MethodNotAllowed' });
    // The literal path wins over the parameter: /v1/orders/new is its own path, POST only.
    const literal = await get('/v1/orders/new');
    expect(literal.status).toBe(405);
    expect(literal.headers.get('allow')).toBe('POST');
    expect((await get('/v1/orders/42/')).status).toBe(404);
    expect((await get('/v1/orders//notes')).status).toBe(404);
    expect((await get('/v1/orders/%E0%A4%A')).status).toBe(400);
  });

  it('a route with no input template on DELETE runs with {}; the literal route beats the parameter', async () => {
    expect((await gw.send(`${gw.url}/v1/echo/x`, { method: 'DELETE', headers: { 'x-api-key': APP } })).status).toBe(200);
    expect(lastInput()).toBe('{}');
    expect((await gw.send(`${gw.url}/v1/orders/new`, { method: 'POST', body: '', headers: { 'x-api-key': APP } })).status).toBe(200);
    expect(JSON.parse(lastInput())).toEqual({ kind: 'new' });
  });

  it("a route runs behind the flow's callers and access list", async () => {
    const before = stub.calls.length;
    const anonymous = await gw.send(`${gw.url}/v1/orders/1`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ Code: 'InvalidCredentials' });
    const denied = await get('/v1/orders/1', { 'x-api-key': OTHER });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ Code: 'AccessDenied' });
    expect(stub.calls.length).toBe(before);
  });

  it("a route spends the flow's rate limit, shared with /flows/{name}/run", async () => {
    const statuses: number[] = [];
    // Three per minute: two through the route (each another order, so no cache hit), one through the run path, then 429.
    statuses.push((await get('/v1/orders/101', { 'cache-control': 'no-store' })).status);
    statuses.push((await get('/v1/orders/102', { 'cache-control': 'no-store' })).status);
    statuses.push(
      (await gw.send(`${gw.url}/flows/get-order/run`, { body: '{"orderId":103}', headers: { 'x-api-key': APP, 'cache-control': 'no-store' } })).status,
    );
    const refused = await get('/v1/orders/104', { 'cache-control': 'no-store' });
    statuses.push(refused.status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(refused.json).toMatchObject({ Code: 'ResourceThrottled' });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('ratelimit-policy')).toBeTruthy();
  });

  it('a GET route caches by the mapped Input: the same Input is a hit whatever the spelling of the URL, another is a miss', async () => {
    const first = await get('/v1/orders/555?expand=false');
    expect(first.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    const calls = stub.calls.length;
    await gw.drain();
    const again = await get('/v1/orders/0555?expand=false&unused=1');
    expect(again.headers.get('cache-status')).toMatch(/^flowgate; hit; ttl=\d+$/);
    expect(again.text).toBe(first.text);
    // The flow allows 3 requests a minute, cache hits included.
    clock.advance(20_000);
    // The run path with the same Input text finds the same entry.
    const viaRun = await gw.send(`${gw.url}/flows/get-order/run`, { body: '{"orderId":555,"expand":false}', headers: { 'x-api-key': APP } });
    expect(viaRun.headers.get('cache-status')).toMatch(/^flowgate; hit/);
    expect(stub.calls.length).toBe(calls);
    clock.advance(20_000);
    const other = await get('/v1/orders/555?expand=true');
    expect(other.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    expect(stub.calls.length).toBe(calls + 1);
  });

  it('Idempotency-Key on a route: a retry replays; the same key with another path parameter is a mismatch', async () => {
    const put = (id: string, key: string) =>
      gw.send(`${gw.url}/v1/orders`, { method: 'POST', body: `{"item":"${id}","quantity":1}`, headers: { 'x-api-key': APP, 'idempotency-key': key } });
    const first = await put('a', 'route-key-1');
    expect(first.status).toBe(200);
    const calls = stub.calls.length;
    const retry = await put('a', 'route-key-1');
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(stub.calls.length).toBe(calls);
    expect((await put('b', 'route-key-1')).status).toBe(422);
  });

  it("a CORS preflight for a route's own method (PUT) and its named header is allowed", async () => {
    const res = await gw.fetch(`${gw.url}/v1/orders/1/notes`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-channel' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-channel');
  });

  it('a route to an ack flow answers 202 with the status URL, and the execution runs with the built Input', async () => {
    const res = await gw.send(`${gw.url}/v1/jobs/report`, { method: 'POST', body: '{"days":7}', headers: { 'x-api-key': APP } });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toMatch(/^\/executions\//);
    await gw.drain();
    expect(stub.calls.at(-1)!.form).toMatchObject({ FlowName: 'later', Input: '{"kind":"report","spec":{"days":7}}' });
  });

  it('HEAD answers from the GET route, without a body', async () => {
    const res = await gw.fetch(`${gw.url}/v1/orders/77`, { method: 'HEAD', headers: { 'x-api-key': APP, 'cache-control': 'no-store' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(JSON.parse(lastInput())).toEqual({ orderId: 77 });
  });

  it('GET /flows lists the routes', async () => {
    const res = await gw.send(`${gw.url}/flows`);
    expect(res.json?.routes).toContainEqual({ method: 'GET', path: '/v1/orders/:id', flow: 'get-order' });
    expect((res.json?.routes as unknown[]).length).toBe(7);
  });
});
