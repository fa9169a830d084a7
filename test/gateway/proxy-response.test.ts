/**
 * `response: proxy`: an Output `{statusCode, headers, body}` is the HTTP answer, through the header allow-list;
 * a malformed one is 502; cached and replayed proxy answers keep their status and headers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const config = (stubUrl: string) => ({
  upstream: { endpoint: stubUrl, credentials: TEST_CREDENTIALS },
  flows: {
    shaped: { response: 'proxy' },
    cookies: { response: { mode: 'proxy', allowSetCookie: true } },
    cached: { response: 'proxy', cache: { ttl: '60s', scope: 'shared' } },
    keyed: { response: 'proxy', idempotency: { ttl: '1h' } },
    plain: {},
  },
  routes: [{ method: 'GET', path: '/v1/shaped/:id', flow: 'shaped', input: { id: '{path.id}' } }],
});

describe('response: proxy', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  let output: unknown;

  beforeAll(() => {
    stub = inProcessUpstream();
    stub.respond((call) => succeeded(output, call));
    gw = inProcessGateway(config(stub.url));
  });
  beforeEach(() => {
    output = { ok: true };
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const run = (flow: string, headers: Record<string, string> = {}, body = '{}') => gw.send(`${gw.url}/flows/${flow}/run`, { body, headers });

  it('status, allowed headers and a JSON body come from the Output; Content-Type defaults to application/json', async () => {
    output = { statusCode: 201, headers: { Location: '/v1/orders/9', ETag: '"v1"', 'X-Custom': 7 }, body: { id: 9 } };
    const res = await run('shaped');
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/orders/9');
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.headers.get('x-custom')).toBe('7');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.text).toBe('{"id":9}');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('x-execution-name')).toMatch(/:/);
  });

  it("a string body is sent as it is, with the flow's own Content-Type; base64 bodies are decoded; 204 has no body", async () => {
    output = { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>hi</p>' };
    let res = await run('shaped');
    expect(res.text).toBe('<p>hi</p>');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    output = { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: btoa('\x00\x01bytes'), isBase64Encoded: true };
    const raw = await gw.fetch(`${gw.url}/flows/shaped/run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(new Uint8Array([0, 1, 98, 121, 116, 101, 115]));
    output = { statusCode: 204, body: 'ignored' };
    res = await run('shaped');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it("refuses hop-by-hop headers, Set-Cookie and flowgate's own headers, and says which in the access log", async () => {
    output = {
      statusCode: 200,
      headers: {
        Connection: 'close',
        'Transfer-Encoding': 'chunked',
        'Content-Length': '1',
        'Set-Cookie': 'session=stolen',
        'X-Request-Id': 'forged',
        RateLimit: 'forged',
        'RateLimit-Policy': 'forged',
        'Cache-Status': 'forged',
        'Server-Timing': 'forged',
        'Access-Control-Allow-Origin': '*',
        'X-Bad': 'a\r\nInjected: yes',
        'Retry-After': '5',
      },
      body: 'x',
    };
    const res = await run('shaped', { 'x-request-id': 'mine-1' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('x');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-request-id')).toBe('mine-1');
    expect(res.headers.get('ratelimit')).toBeNull();
    expect(res.headers.get('cache-status')).toBeNull();
    expect(res.headers.get('server-timing')).not.toBe('forged');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('injected')).toBeNull();
    expect(res.headers.get('x-bad')).toBeNull();
    expect(res.headers.get('connection')).toBeNull();
    expect(res.headers.get('retry-after')).toBe('5');
    const log = gw.logs.find((l) => l.requestId === 'mine-1');
    expect(log?.detail).toBe(
      'proxy answer headers dropped: connection, transfer-encoding, content-length, set-cookie, x-request-id, ratelimit, ratelimit-policy, cache-status, server-timing, access-control-allow-origin, x-bad',
    );
    expect(log?.detail).not.toContain('stolen');
  });

  it('Set-Cookie passes, each value on its own, when the flow allows it; multiValueHeaders win over headers', async () => {
    output = { statusCode: 200, headers: { 'Set-Cookie': 'a=0', Vary: 'Accept' }, multiValueHeaders: { 'Set-Cookie': ['a=1; Secure', 'b=2'] }, body: {} };
    const res = await gw.fetch(`${gw.url}/flows/cookies/run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.headers.getSetCookie()).toEqual(['a=1; Secure', 'b=2']);
    expect(res.headers.get('vary')).toBe('Accept');
  });

  it.each([
    [{ statusCode: 700, body: 'x' }],
    [{ statusCode: 199 }],
    [{ statusCode: '200' }],
    [{ statusCode: 200, headers: { a: { nested: true } } }],
    [{ statusCode: 200, multiValueHeaders: { a: 'not a list' } }],
    [{ statusCode: 200, body: 'x', isBase64Encoded: true }],
    [{ statusCode: 200, extra: 1 }],
  ])('a malformed proxy answer %j is 502 UpstreamError, the reason logged', async (bad) => {
    output = bad;
    const res = await run('shaped', { 'x-request-id': `bad-${stub.calls.length}` });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ Code: 'UpstreamError' });
    expect(gw.logs.find((l) => l.requestId === res.headers.get('x-request-id'))?.detail).toMatch(/^the proxy answer/);
  });

  it('an Output without statusCode is the body, as with response: body; on a plain flow a proxy-shaped Output is just the body', async () => {
    output = { status: 201, body: 'not proxy' };
    expect((await run('shaped')).json).toEqual({ status: 201, body: 'not proxy' });
    output = { statusCode: 201, body: 'x' };
    const plain = await run('plain');
    expect(plain.status).toBe(200);
    expect(plain.json).toEqual({ statusCode: 201, body: 'x' });
  });

  it('a route answers with the proxy answer too', async () => {
    output = { statusCode: 404, body: { Code: 'OrderNotFound' } };
    const res = await gw.send(`${gw.url}/v1/shaped/1`);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ Code: 'OrderNotFound' });
  });

  it('a cached proxy answer replays its status and headers; a 5xx or no-store answer is not stored', async () => {
    output = { statusCode: 202, headers: { 'x-flow': 'one' }, body: { n: 1 } };
    const first = await run('cached', {}, '{"k":1}');
    expect(first.headers.get('cache-status')).toBe('flowgate; fwd=miss; stored');
    await gw.drain();
    output = { statusCode: 200, body: { n: 2 } };
    const hit = await run('cached', {}, '{"k":1}');
    expect(hit.headers.get('cache-status')).toMatch(/^flowgate; hit/);
    expect(hit.status).toBe(202);
    expect(hit.headers.get('x-flow')).toBe('one');
    expect(hit.json).toEqual({ n: 1 });

    output = { statusCode: 503, body: {} };
    expect((await run('cached', {}, '{"k":2}')).headers.get('cache-status')).toBe('flowgate; fwd=miss');
    output = { statusCode: 200, headers: { 'Cache-Control': 'no-store' }, body: {} };
    expect((await run('cached', {}, '{"k":3}')).headers.get('cache-status')).toBe('flowgate; fwd=miss');
    await gw.drain();
    expect((await run('cached', {}, '{"k":3}')).headers.get('cache-status')).toBe('flowgate; fwd=miss');
  });

  it("an Idempotency-Key replay keeps the status and the flow's headers, also for a 5xx the execution answered", async () => {
    output = { statusCode: 500, headers: { 'x-flow': 'failed' }, body: { why: 'x' } };
    const first = await run('keyed', { 'idempotency-key': 'proxy-key-1' });
    expect(first.status).toBe(500);
    const calls = stub.calls.length;
    const retry = await run('keyed', { 'idempotency-key': 'proxy-key-1' });
    expect(retry.status).toBe(500);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('x-flow')).toBe('failed');
    expect(retry.text).toBe(first.text);
    expect(stub.calls.length).toBe(calls);
  });
});
