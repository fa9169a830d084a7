import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { inProcessUpstream, startUpstreamStub, succeeded, upstreamError, TEST_CREDENTIALS, type UpstreamStub } from './helpers/upstream-stub.js';
import { startGateway } from './helpers/gateway.js';
import { inProcessGateway, type InProcessGateway } from './helpers/in-process.js';
import { gate } from './helpers/gate.js';

const API_KEY = 'mobile-key-0123456789abcdef';

function baseConfig(upstreamUrl: string, overrides: Record<string, unknown> = {}) {
  return {
    upstream: { endpoint: upstreamUrl, credentials: TEST_CREDENTIALS, timeout: '400ms' },
    server: { cors: { origins: ['https://app.example'] } },
    flows: {
      hello: { flowName: 'hello_world', qualifier: '1', qualifiers: ['2', 'prod'], errors: { OrderNotFound: 404, InvalidOrder: 422 }, maxInputSize: '2KiB' },
      plain: {},
    },
    ...overrides,
  };
}

/** A gateway in process (`fetch` is its own) or over a socket (global `fetch`). */
type Gateway = { url: string; fetch?: typeof fetch };

async function post(gw: Gateway, path: string, body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await (gw.fetch ?? fetch)(gw.url + path, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, text, json: json as Record<string, unknown> };
}

/** Sends a chunked body (no Content-Length) in pieces and returns the status the gateway answered. */
function postChunked(url: string, totalBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error) => reject(error));
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    req.write('{"a":"');
    pump();
  });
}

describe('gateway core', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const everything: string[] = [];

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(baseConfig(stub.url));
  });
  afterEach(() => {
    stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call));
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
    // No secret, key or signature in any response or log line.
    const haystack = everything.join('\n') + JSON.stringify(gw.logs);
    expect(haystack).not.toContain(TEST_CREDENTIALS.accessKeySecret);
    expect(haystack).not.toMatch(/Signature=|ACS3-HMAC-SHA256 Credential/);
    expect(haystack).not.toContain(API_KEY);
  });

  async function run(path: string, body?: string, headers?: Record<string, string>) {
    const r = await post(gw, path, body, headers);
    everything.push(r.text, JSON.stringify([...r.res.headers]));
    return r;
  }

  it('Succeeded → 200 with the parsed Output, signed V3 call, mapped FlowName and qualifier', async () => {
    // Big integers prove neither the Input nor the Output is re-serialized on the way through.
    stub.respond((call) => succeeded('{"greeting":"hi","n":12345678901234567890}', call));
    const before = stub.calls.length;
    const { res, text } = await run('/flows/hello/run', '{"name": "ada",  "big": 12345678901234567890}', {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': 'req-abc.1',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(text).toBe('{"greeting":"hi","n":12345678901234567890}');
    expect(res.headers.get('x-request-id')).toBe('req-abc.1');
    expect(res.headers.get('x-execution-name')).toBe('fg_req-abc_d1:11111111-2222-4333-8444-555555555555');
    expect(res.headers.get('server-timing')).toMatch(/upstream;dur=\d+/);
    const call = stub.calls[before]!;
    expect(call.signature).toBe('v3');
    expect(call.form).toEqual({
      FlowName: 'hello_world',
      Input: '{"name": "ada",  "big": 12345678901234567890}',
      ExecutionName: 'fg_req-abc_d1',
      Qualifier: '1',
    });
    expect(call.headers['x-acs-action']).toBe('StartSyncExecution');
    expect(call.headers['x-acs-version']).toBe('2019-03-15');
  });

  it('an empty body runs with Input {}', async () => {
    const { res, json } = await run('/flows/plain/run', undefined, {});
    expect(res.status).toBe(200);
    expect(json).toEqual({ echo: {} });
    expect(stub.calls.at(-1)!.form.FlowName).toBe('plain');
  });

  it('empty Output answers {}', async () => {
    stub.respond((call) => succeeded('', call));
    const { res, json } = await run('/flows/plain/run', '{}');
    expect(res.status).toBe(200);
    expect(json).toEqual({});
  });

  it('honours X-Execution-Name and an allowed ?qualifier=', async () => {
    const { res } = await run('/flows/hello/run?qualifier=prod', '{}', { 'content-type': 'application/json', 'x-execution-name': 'order_42' });
    expect(res.status).toBe(200);
    expect(stub.calls.at(-1)!.form).toMatchObject({ ExecutionName: 'order_42', Qualifier: 'prod' });
  });

  it('Failed with a mapped code → the mapped status and the flow error envelope', async () => {
    stub.respond(() => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'Failed', ErrorCode: 'InvalidOrder', ErrorMessage: 'sku missing' } }));
    const { res, json } = await run('/flows/hello/run', '{}');
    expect(res.status).toBe(422);
    expect(json).toEqual({ RequestId: res.headers.get('x-request-id'), Code: 'InvalidOrder', Message: 'sku missing', ExecutionName: 'x:1' });
  });

  it('Failed with an unmapped code → 500', async () => {
    stub.respond(() => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'Failed', ErrorCode: 'Boom', ErrorMessage: 'it broke' } }));
    const { res, json } = await run('/flows/hello/run', '{}');
    expect(res.status).toBe(500);
    expect(json.Code).toBe('Boom');
  });

  it('TimedOut → 504 ExecutionTimedOut; Stopped → 500 ExecutionStopped', async () => {
    stub.respond(() => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'TimedOut' } }));
    let r = await run('/flows/hello/run', '{}');
    expect(r.res.status).toBe(504);
    expect(r.json.Code).toBe('ExecutionTimedOut');
    stub.respond(() => ({ json: { RequestId: 'U1', Name: 'x:1', Status: 'Stopped' } }));
    r = await run('/flows/hello/run', '{}');
    expect(r.res.status).toBe(500);
    expect(r.json.Code).toBe('ExecutionStopped');
  });

  it('upstream 429 → 429 ResourceThrottled with Retry-After, counted in the log', async () => {
    stub.respond(() => ({ ...upstreamError(429, 'ResourceThrottled'), headers: { 'retry-after': '7' } }));
    const { res, json } = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', 'x-request-id': 'throttled-1' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(json.Code).toBe('ResourceThrottled');
    expect(json.Message).toBe('The request is throttled. Please try again later.');
    const line = gw.logs.find((l) => l.requestId === 'throttled-1')!;
    expect(line).toMatchObject({ status: 429, upstreamStatus: 429, upstreamCode: 'ResourceThrottled' });
  });

  it.each([
    [400, 'SignatureDoesNotMatch'],
    [404, 'InvalidAccessKeyId.NotFound'],
    [403, 'AccessDenied'],
    [400, 'InvalidTimeStamp.Expired'],
    [404, 'FlowNotExists'],
    [400, 'ActionNotSupported'],
    [500, 'InternalServerError'],
    [503, 'ServiceUnavailable'],
  ])('upstream %i %s → generic 502, detail only in the log', async (status, code) => {
    stub.respond(() => upstreamError(status, code, 'server string to sign is: secret-ish detail'));
    const rid = `up-${status}-${code.length}`;
    const { res, json, text } = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', 'x-request-id': rid });
    expect(res.status).toBe(502);
    expect(json.Code).toBe('UpstreamError');
    expect(text).not.toContain(code);
    expect(text).not.toContain('string to sign');
    expect(gw.logs.find((l) => l.requestId === rid)).toMatchObject({ upstreamStatus: status, upstreamCode: code });
  });

  it('upstream EntityTooLarge → 413', async () => {
    stub.respond(() => upstreamError(400, 'EntityTooLarge'));
    const { res, json } = await run('/flows/hello/run', '{}');
    expect(res.status).toBe(413);
    expect(json.Code).toBe('EntityTooLarge');
  });

  it('a 200 body that is not JSON, and an Output that is not JSON → 502', async () => {
    stub.respond(() => ({ raw: '<html>oops</html>' }));
    expect((await run('/flows/hello/run', '{}')).res.status).toBe(502);
    stub.respond((call) => succeeded('not json', call));
    expect((await run('/flows/hello/run', '{}')).res.status).toBe(502);
  });

  it('an upstream that hangs past the deadline → 504 GatewayTimeout', async () => {
    stub.respond(() => ({ hang: true }));
    const started = Date.now();
    const { res, json } = await run('/flows/hello/run', '{}');
    expect(res.status).toBe(504);
    expect(json.Code).toBe('GatewayTimeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('413 by Content-Length, the upstream provably not called (a chunked body: see over a socket, below)', async () => {
    const before = stub.calls.length;
    const big = JSON.stringify({ a: 'x'.repeat(1024 * 1024) });
    const { res, json } = await run('/flows/hello/run', big);
    expect(res.status).toBe(413);
    expect(json).toMatchObject({ Code: 'EntityTooLarge', Message: 'The payload size exceeds maximum allowed size (1048576 bytes).' });
    expect(stub.calls.length).toBe(before);
  });

  it('413 when the Input exceeds the flow maxInputSize, upstream not called', async () => {
    const before = stub.calls.length;
    const { res, json } = await run('/flows/hello/run', JSON.stringify({ a: 'x'.repeat(3000) }));
    expect(res.status).toBe(413);
    expect(json.Message).toBe('The payload size exceeds maximum allowed size (2048 bytes).');
    expect(stub.calls.length).toBe(before);
  });

  it.each([
    ['text/plain', '{}'],
    ['application/x-www-form-urlencoded', 'a=1'],
  ])('415 for content type %s', async (type, body) => {
    const { res, json } = await run('/flows/hello/run', body, { 'content-type': type });
    expect(res.status).toBe(415);
    expect(json).toMatchObject({ Code: 'UnsupportedMediaType', Message: 'The content type must be "application/json".' });
  });

  it('accepts application/*+json', async () => {
    expect((await run('/flows/hello/run', '{}', { 'content-type': 'application/vnd.api+json' })).res.status).toBe(200);
  });

  it.each([
    ['{"a":', 'not valid JSON'],
    ['[1,2]', 'must be a JSON object, got an array'],
    ['"str"', 'got a string'],
    ['null', 'got null'],
    ['['.repeat(100) + ']'.repeat(100), 'nested deeper than 64'],
    [`{"a":${'['.repeat(70)}${']'.repeat(70)}}`, 'nested deeper than 64'],
  ])('400 InvalidArgument for %s', async (body, why) => {
    const { res, json } = await run('/flows/hello/run', body);
    expect(res.status).toBe(400);
    expect(json.Code).toBe('InvalidArgument');
    expect(String(json.Message)).toMatch(/^Parameter error\. /);
    expect(String(json.Message)).toContain(why);
  });

  it('400 for a bad X-Execution-Name and a qualifier the flow does not allow', async () => {
    let r = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', 'x-execution-name': '9starts-with-digit' });
    expect(r.res.status).toBe(400);
    r = await run('/flows/hello/run?qualifier=evil', '{}');
    expect(r.res.status).toBe(400);
    r = await run('/flows/plain/run?qualifier=1', '{}');
    expect(r.res.status).toBe(400);
  });

  it('404 FlowNotExists for a flow the config does not expose; 405 for GET on run', async () => {
    const { res, json } = await run('/flows/secret_flow/run', '{}');
    expect(res.status).toBe(404);
    expect(json).toMatchObject({ Code: 'FlowNotExists', Message: 'Flow secret_flow does not exist.' });
    const get = await gw.fetch(gw.url + '/flows/hello/run');
    expect(get.status).toBe(405);
    expect((await gw.fetch(gw.url + '/nope')).status).toBe(404);
  });

  it('replaces an unsafe X-Request-Id', async () => {
    const { res } = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', 'x-request-id': 'bad id with spaces' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('CORS headers are on successes and on errors', async () => {
    const ok = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', origin: 'https://app.example' });
    expect(ok.res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.res.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const bad = await run('/flows/hello/run', '[]', { 'content-type': 'application/json', origin: 'https://app.example' });
    expect(bad.res.status).toBe(400);
    expect(bad.res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const missing = await run('/flows/none/run', '{}', { 'content-type': 'application/json', origin: 'https://app.example' });
    expect(missing.res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const preflight = await gw.fetch(gw.url + '/flows/hello/run', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    const other = await run('/flows/hello/run', '{}', { 'content-type': 'application/json', origin: 'https://evil.example' });
    expect(other.res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('GET /flows, /healthz, /readyz and /openapi.json', async () => {
    const flows = (await (await gw.fetch(gw.url + '/flows')).json()) as { flows: { name: string }[] };
    expect(flows.flows.map((f) => f.name)).toEqual(['hello', 'plain']);
    expect(JSON.stringify(flows)).not.toContain('hello_world');
    expect((await gw.fetch(gw.url + '/healthz')).status).toBe(200);
    const ready = await gw.fetch(gw.url + '/readyz');
    expect(ready.status).toBe(200);
    const doc = (await (await gw.fetch(gw.url + '/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/flows/hello/run', '/flows/plain/run', '/flows/{name}/cache', '/executions/{name}']);
  });

  it('writes one JSON access-log line per request with the documented fields', async () => {
    await run('/flows/hello/run', '{}', { 'content-type': 'application/json', 'x-request-id': 'log-check-1' });
    const lines = gw.logs.filter((l) => l.requestId === 'log-check-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ flow: 'hello', caller: 'ip:127.0.0.1', status: 200, upstreamStatus: 200, method: 'POST', path: '/flows/hello/run' });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });
});

describe('upstream faults outside the stub', () => {
  it('connection refused → 502 UpstreamError', async () => {
    // No stub at that endpoint: the Node runtime's own connection pool makes the call.
    const gw = inProcessGateway(baseConfig('http://127.0.0.1:1'));
    try {
      const { res, json } = await post(gw, '/flows/hello/run', '{}');
      expect(res.status).toBe(502);
      expect(json.Code).toBe('UpstreamError');
      expect(gw.logs.at(-1)).toMatchObject({ upstreamCode: 'network' });
    } finally {
      await gw.close();
    }
  });

  it('a wrong secret is refused by the verifying upstream and answered 502', async () => {
    const stub = inProcessUpstream({ secret: 'another-secret' });
    const gw = inProcessGateway(baseConfig(stub.url));
    try {
      const { res } = await post(gw, '/flows/hello/run', '{}');
      expect(res.status).toBe(502);
      expect(gw.logs.at(-1)).toMatchObject({ upstreamCode: 'SignatureDoesNotMatch' });
      expect(stub.calls).toHaveLength(0);
    } finally {
      await gw.close();
      await stub.close();
    }
  });

  it.each([
    ['rpc', undefined],
    ['rpc', 'sts-token-1'],
    ['v3', 'sts-token-1'],
  ])('signs with %s (STS token %s) and the official verifier agrees', async (signatureVersion, token) => {
    const stub = inProcessUpstream();
    const gw = inProcessGateway({
      ...baseConfig(stub.url),
      upstream: { endpoint: stub.url, signatureVersion, credentials: { ...TEST_CREDENTIALS, ...(token ? { securityToken: token } : {}) } },
    });
    try {
      const { res } = await post(gw, '/flows/hello/run', '{"q": "a b*c~d\'e(f)!g+h%i"}');
      expect(res.status).toBe(200);
      const call = stub.calls[0]!;
      expect(call.signature).toBe(signatureVersion);
      if (token) expect(signatureVersion === 'rpc' ? call.query.SecurityToken : call.headers['x-acs-security-token']).toBe(token);
      expect(call.form.Input).toBe('{"q": "a b*c~d\'e(f)!g+h%i"}');
    } finally {
      await gw.close();
      await stub.close();
    }
  });

  it('takes credentials from ALIBABA_CLOUD_* environment variables', async () => {
    const stub = inProcessUpstream();
    const gw = inProcessGateway(
      { upstream: { endpoint: stub.url }, flows: { plain: {} } },
      { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret', ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token' } },
    );
    try {
      expect((await post(gw, '/flows/plain/run', '{}')).res.status).toBe(200);
      expect(stub.calls[0]!.headers['x-acs-security-token']).toBe('env-token');
    } finally {
      await gw.close();
      await stub.close();
    }
  });
});

describe('over a socket', () => {
  it('413 for a chunked body over the limit, the upstream provably not called', async () => {
    const stub = await startUpstreamStub();
    const gw = await startGateway(baseConfig(stub.url));
    try {
      expect(await postChunked(gw.url + '/flows/hello/run', 3 * 1024 * 1024)).toBe(413);
      expect(stub.calls).toHaveLength(0);
    } finally {
      await gw.close();
      await stub.close();
    }
  });

  it('drains a request in flight on shutdown', async () => {
    const stub = await startUpstreamStub();
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ slow: true }, call);
    });
    const gw = await startGateway(baseConfig(stub.url, { upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS } }));
    const pending = post(gw, '/flows/hello/run', '{}');
    await stub.received(1);
    // The request is at the upstream: shut down (the server stops accepting at once), then let it answer.
    const closed = gw.close();
    upstream.open();
    await closed;
    const { res, json } = await pending;
    expect(res.status).toBe(200);
    expect(json).toEqual({ slow: true });
    await stub.close();
  });
});

describe('slow clients', () => {
  it('a client that trickles its headers is cut off after server.headersTimeout, while a slow execution is not', async () => {
    const { connect } = await import('node:net');
    const stub = await startUpstreamStub();
    // Real time is the point here: the answer comes only after both receive deadlines (and Node's checks of them) have passed.
    stub.respond(async (call) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return succeeded({ ok: 1 }, call);
    });
    const gw = await startGateway({
      ...baseConfig(stub.url),
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
      server: { headersTimeout: '300ms', requestTimeout: '600ms' },
    });
    try {
      // An execution that takes longer than both deadlines still completes: they bound receiving, not answering.
      const slow = post(gw, '/flows/hello/run', '{}');
      const port = Number(new URL(gw.url).port);
      const socket = connect(port, '127.0.0.1');
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('error', () => {});
      const started = Date.now();
      socket.write('POST /flows/hello/run HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
      const closedAt = await closed;
      clearInterval(trickle);
      expect(closedAt - started).toBeLessThan(3_000);
      // Node's 408, in the error envelope.
      expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      const [head, body] = received.split('\r\n\r\n');
      expect(head).toMatch(/\r\ncontent-type: application\/json\r\n/i);
      expect(JSON.parse(body!)).toMatchObject({ Code: 'RequestTimeout', Message: 'The request was not received in time.' });
      const { res, json } = await slow;
      expect(res.status).toBe(200);
      expect(json).toEqual({ ok: 1 });
    } finally {
      await gw.close();
      await stub.close();
    }
  });
});
