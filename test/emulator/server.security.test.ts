import { describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { formEncode } from '../../src/cloudflow/signing/encoding.js';
import { isoSeconds } from '../../src/lib/iso-time.js';
import { signRpc } from '../../src/cloudflow/signing/rpc.js';
import { signV3 } from '../../src/cloudflow/signing/v3.js';
import { createEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { manualClock } from '../../src/lib/clock.js';
import { startEmulator } from '../../src/platform/node/emulator.js';

/**
 * Every check CloudFlow's gateway makes, each tampered with on its own, against the in-process app with an
 * injected clock. Requests are signed by the project's signers (themselves checked against the official client),
 * then changed after signing. Answers are asserted in the POP gateway's vocabulary (`errorCodes: 'pop'`), whose
 * codes tell the checks apart most finely; errors.table.test.ts walks the API reference's table, the default.
 */
const HOST = 'cn-hangzhou.fnf.aliyuncs.com';
const KEY = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
const STS_KEY = { accessKeyId: 'STS.key', accessKeySecret: 'stssecret', securityTokens: ['token-a', 'token-b'] };
const HELLO = `Type: StateMachine
SpecVersion: v1
Name: hello
ExecutionMode: Express
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      hello.$: $Input.name
    End: true
`;

function setup(options: EmulatorOptions = {}) {
  const clock = manualClock(Date.UTC(2024, 0, 1, 12));
  let n = 0;
  const emulator = createEmulator({
    errorCodes: 'pop',
    keys: [KEY, STS_KEY],
    flows: [{ definition: HELLO }],
    clock,
    uuid: () => `00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`,
    ...options,
  });
  const send = async (request: Request) => {
    const res = await emulator.app.fetch(request);
    const text = await res.text();
    return { res, text, json: JSON.parse(text) as Record<string, unknown> };
  };
  return { clock, emulator, send };
}

let nonceSeq = 0;
const freshNonce = () => `nonce-${++nonceSeq}-${Math.random().toString(16).slice(2)}`;

interface V3Options {
  body?: Record<string, string>;
  action?: string;
  key?: { accessKeyId: string; accessKeySecret: string };
  token?: string;
  date?: number;
  nonce?: string;
}

async function signedV3(now: number, o: V3Options = {}): Promise<{ url: string; headers: Record<string, string>; body: string }> {
  const body = formEncode(o.body ?? { FlowName: 'hello', Input: '{"name":"Ada"}' });
  const key = o.key ?? KEY;
  const headers = await signV3(
    {
      method: 'POST',
      headers: {
        host: HOST,
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-action': o.action ?? 'StartSyncExecution',
        'x-acs-version': '2019-03-15',
      },
      body,
    },
    { ...key, securityToken: o.token },
    { date: isoSeconds(o.date ?? now), nonce: o.nonce ?? freshNonce() },
  );
  return { url: `http://${HOST}/`, headers, body };
}

const asRequest = (s: { url: string; headers: Record<string, string>; body: string }, method = 'POST') =>
  new Request(s.url, { method, headers: s.headers, body: method === 'GET' ? undefined : s.body });

interface RpcOptions {
  params?: Record<string, string>;
  key?: { accessKeyId: string; accessKeySecret: string };
  token?: string;
  date?: number;
  nonce?: string;
  method?: 'GET' | 'POST';
  /** Where the common parameters and the signature go: the query (official client) or the form body (pop-core). */
  layout?: 'query' | 'form' | 'all-query';
}

async function signedRpc(now: number, o: RpcOptions = {}): Promise<Request> {
  const key = o.key ?? KEY;
  const common: Record<string, string> = {
    Action: 'StartSyncExecution',
    Format: 'json',
    Version: '2019-03-15',
    Timestamp: isoSeconds(o.date ?? now),
    SignatureNonce: o.nonce ?? freshNonce(),
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    AccessKeyId: key.accessKeyId,
    ...(o.token ? { SecurityToken: o.token } : {}),
  };
  const business = o.params ?? { FlowName: 'hello', Input: '{"name":"Ada"}' };
  const method = o.method ?? 'POST';
  const signature = await signRpc(method, { ...common, ...business }, key.accessKeySecret);
  const layout = o.layout ?? (method === 'GET' ? 'all-query' : 'query');
  const headers = { host: HOST, 'content-type': 'application/x-www-form-urlencoded' };
  if (layout === 'form') return new Request(`http://${HOST}/`, { method, headers, body: formEncode({ ...common, ...business, Signature: signature }) });
  if (layout === 'all-query') return new Request(`http://${HOST}/?${formEncode({ ...common, ...business, Signature: signature })}`, { method, headers });
  return new Request(`http://${HOST}/?${formEncode({ ...common, Signature: signature })}`, { method, headers, body: formEncode(business) });
}

describe('V3 (ACS3-HMAC-SHA256) verification', () => {
  it('accepts a correctly signed call', async () => {
    const { clock, send } = setup();
    const { res, json } = await send(asRequest(await signedV3(clock.now())));
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ Status: 'Succeeded', Output: '{"hello":"Ada"}' });
  });

  it('a changed body is refused, whether or not x-acs-content-sha256 is recomputed', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    const tampered = { ...signed, body: signed.body.replace('Ada', 'Eve') };
    const first = await send(asRequest(tampered));
    expect(first.res.status).toBe(400);
    expect(first.json).toMatchObject({ Code: 'SignatureDoesNotMatch', Message: expect.stringContaining('x-acs-content-sha256') });

    const rehashed = await signedV3(clock.now(), { body: { FlowName: 'hello', Input: '{"name":"Eve"}' } });
    const second = await send(
      asRequest({ ...signed, body: rehashed.body, headers: { ...signed.headers, 'x-acs-content-sha256': rehashed.headers['x-acs-content-sha256']! } }),
    );
    expect(second.json.Code).toBe('SignatureDoesNotMatch');
  });

  it('a changed signed header is refused', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    for (const [name, value] of [
      ['host', 'evil.example'],
      ['content-type', 'application/x-www-form-urlencoded; charset=latin1'],
      ['x-acs-signature-nonce', 'another'],
    ] as const) {
      const { res, json } = await send(asRequest({ ...signed, headers: { ...signed.headers, [name]: value } }));
      expect([name, res.status, json.Code]).toEqual([name, 400, 'SignatureDoesNotMatch']);
    }
  });

  it('a header the emulator acts on must be signed', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    const auth = signed.headers.authorization!.replace(';x-acs-date', '');
    const { res, json } = await send(asRequest({ ...signed, headers: { ...signed.headers, authorization: auth } }));
    expect(res.status).toBe(400);
    expect(json).toMatchObject({ Code: 'IncompleteSignature', Message: expect.stringContaining('x-acs-date') });
    const malformed = await send(asRequest({ ...signed, headers: { ...signed.headers, authorization: 'ACS3-HMAC-SHA256 Credential=testid' } }));
    expect(malformed.json.Code).toBe('IncompleteSignature');
  });

  it('a changed signature is refused', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    const auth = signed.headers.authorization!;
    const flipped = auth.slice(0, -1) + (auth.endsWith('0') ? '1' : '0');
    const { res, json } = await send(asRequest({ ...signed, headers: { ...signed.headers, authorization: flipped } }));
    expect(res.status).toBe(400);
    expect(json.Code).toBe('SignatureDoesNotMatch');
  });

  it('a date more than 15 minutes stale or ahead is refused; inside the window it is accepted', async () => {
    const { clock, send } = setup();
    const now = clock.now();
    expect((await send(asRequest(await signedV3(now, { date: now - 15 * 60_000 })))).res.status).toBe(200);
    expect((await send(asRequest(await signedV3(now, { date: now + 15 * 60_000 })))).res.status).toBe(200);
    const stale = await send(asRequest(await signedV3(now, { date: now - 15 * 60_000 - 1000 })));
    expect([stale.res.status, stale.json.Code]).toEqual([400, 'InvalidTimeStamp.Expired']);
    const future = await send(asRequest(await signedV3(now, { date: now + 16 * 60_000 })));
    expect(future.json.Code).toBe('InvalidTimeStamp.Expired');

    const signed = await signedV3(now);
    clock.advance(15 * 60_000 + 1000);
    expect((await send(asRequest(signed))).json.Code).toBe('InvalidTimeStamp.Expired');
  });

  it('a date that is not ISO 8601 is refused as badly formatted', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    const { json } = await send(asRequest({ ...signed, headers: { ...signed.headers, 'x-acs-date': 'Mon, 01 Jan 2024 12:00:00 GMT' } }));
    expect(json.Code).toBe('InvalidTimeStamp.Format');
  });

  it('an unknown AccessKeyId is refused with 404 InvalidAccessKeyId.NotFound', async () => {
    const { clock, send } = setup();
    const { res, json } = await send(asRequest(await signedV3(clock.now(), { key: { accessKeyId: 'nobody', accessKeySecret: 'x' } })));
    expect([res.status, json.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
  });

  it('a key with STS tokens needs one of them; a wrong or missing token is refused', async () => {
    const { clock, send } = setup();
    expect((await send(asRequest(await signedV3(clock.now(), { key: STS_KEY, token: 'token-b' })))).res.status).toBe(200);
    const wrong = await send(asRequest(await signedV3(clock.now(), { key: STS_KEY, token: 'token-c' })));
    expect([wrong.res.status, wrong.json.Code]).toEqual([400, 'InvalidSecurityToken.MismatchWithAccessKey']);
    const missing = await send(asRequest(await signedV3(clock.now(), { key: STS_KEY })));
    expect(missing.json.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
    // The token header is signed: swapping it after signing breaks the signature.
    const signed = await signedV3(clock.now(), { key: STS_KEY, token: 'token-a' });
    const swapped = await send(asRequest({ ...signed, headers: { ...signed.headers, 'x-acs-security-token': 'token-b' } }));
    expect(swapped.json.Code).toBe('SignatureDoesNotMatch');
  });

  it('a replayed nonce is refused inside the window; a forged call does not burn the nonce', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now(), { nonce: 'fixed-nonce-1' });
    const forged = await send(asRequest({ ...signed, body: signed.body.replace('Ada', 'Eve') }));
    expect(forged.json.Code).toBe('SignatureDoesNotMatch');
    expect((await send(asRequest(signed))).res.status).toBe(200);
    clock.advance(10 * 60_000);
    const replay = await send(asRequest(signed));
    expect([replay.res.status, replay.json.Code]).toEqual([400, 'SignatureNonceUsed']);
    // Another key may use the same nonce.
    expect((await send(asRequest(await signedV3(clock.now(), { key: STS_KEY, token: 'token-a', nonce: 'fixed-nonce-1' })))).res.status).toBe(200);
  });
});

describe('RPC (HMAC-SHA1) verification', () => {
  it('accepts the official client layout, the pop-core all-in-the-body layout, and GET with everything in the query', async () => {
    const { clock, send } = setup();
    for (const request of [await signedRpc(clock.now()), await signedRpc(clock.now(), { layout: 'form' }), await signedRpc(clock.now(), { method: 'GET' })]) {
      const { res, json } = await send(request);
      expect([res.status, json.Output]).toEqual([200, '{"hello":"Ada"}']);
    }
  });

  it('refuses a changed parameter, a changed signature, an unknown key, a stale Timestamp, a wrong token and a replayed nonce', async () => {
    const { clock, send } = setup();
    const now = clock.now();
    const good = await signedRpc(now, { nonce: 'rpc-nonce' });
    const changedBody = new Request(good.url, { method: 'POST', headers: good.headers, body: formEncode({ FlowName: 'hello', Input: '{"name":"Eve"}' }) });
    expect((await send(changedBody)).json.Code).toBe('SignatureDoesNotMatch');
    const url = new URL(good.url);
    url.searchParams.set('Signature', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(
      (await send(new Request(url, { method: 'POST', headers: good.headers, body: formEncode({ FlowName: 'hello', Input: '{"name":"Ada"}' }) }))).json.Code,
    ).toBe('SignatureDoesNotMatch');
    expect((await send(await signedRpc(now, { key: { accessKeyId: 'nobody', accessKeySecret: 'x' } }))).json.Code).toBe('InvalidAccessKeyId.NotFound');
    expect((await send(await signedRpc(now, { date: now - 16 * 60_000 }))).json.Code).toBe('InvalidTimeStamp.Expired');
    expect((await send(await signedRpc(now, { date: now + 16 * 60_000 }))).json.Code).toBe('InvalidTimeStamp.Expired');
    expect((await send(await signedRpc(now, { key: STS_KEY, token: 'token-x' }))).json.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
    expect((await send(await signedRpc(now, { key: STS_KEY, token: 'token-a' }))).res.status).toBe(200);

    expect((await send(good)).res.status).toBe(200);
    const replay = await signedRpc(now, { nonce: 'rpc-nonce' });
    expect((await send(replay)).json.Code).toBe('SignatureNonceUsed');
  });

  it('refuses a call without the signing parameters', async () => {
    const { send } = setup();
    const res = await send(new Request(`http://${HOST}/?Action=StartSyncExecution&Version=2019-03-15&AccessKeyId=testid&Signature=x`, { method: 'POST' }));
    expect(res.json).toMatchObject({ Code: 'IncompleteSignature', Message: expect.stringContaining('SignatureNonce') });
    const unsigned = await send(new Request(`http://${HOST}/?Action=ListFlows&Version=2019-03-15`, { method: 'POST' }));
    expect(unsigned.json.Code).toBe('IncompleteSignature');
  });
});

describe('the envelope and the wire', () => {
  it('errors carry RequestId, HostId, Code, Message, Recommend and x-acs-request-id, and never a secret or signature', async () => {
    const { clock, send } = setup();
    const signed = await signedV3(clock.now());
    const auth = signed.headers.authorization!;
    const { res, json, text } = await send(asRequest({ ...signed, headers: { ...signed.headers, authorization: auth.slice(0, -2) + 'ff' } }));
    expect(Object.keys(json)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    expect(res.headers.get('x-acs-request-id')).toBe(json.RequestId);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.HostId).toBe(HOST);
    expect(text).not.toContain(KEY.accessKeySecret);
    expect(text).not.toContain(auth.split('Signature=')[1]!.slice(0, 16));
  });

  it('an unknown path is InvalidApi.NotFound; a body that is not a form is 415', async () => {
    const { clock, send } = setup();
    expect((await send(new Request(`http://${HOST}/flows`, { method: 'POST' }))).res.status).toBe(404);
    const signed = await signedV3(clock.now());
    const res = await send(new Request(signed.url, { method: 'POST', headers: { ...signed.headers, 'content-type': 'application/json' }, body: '{}' }));
    expect([res.res.status, res.json.Code]).toEqual([415, 'UnsupportedMediaType']);
  });

  it('a request body over 1 MiB is refused while streaming, chunked, over real HTTP', async () => {
    const emu = await startEmulator({ port: 0, accessKeys: [KEY], errorCodes: 'pop' });
    try {
      const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${emu.url}/`,
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < 2 * 1024 * 1024) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        req.write('Input=');
        pump();
      });
      expect(status.status).toBe(400);
      expect(JSON.parse(status.body)).toMatchObject({ Code: 'EntityTooLarge', Message: expect.stringContaining('1048576') });
    } finally {
      await emu.close();
    }
  });

  it('a signed chunked body is accepted over real HTTP', async () => {
    const emu = await startEmulator({ port: 0, accessKeys: [KEY], flows: [{ definition: HELLO }] });
    try {
      const signed = await signedV3(Date.now());
      const headers = { ...signed.headers, host: HOST };
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${emu.url}/`, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        for (let i = 0; i < signed.body.length; i += 5) req.write(signed.body.slice(i, i + 5));
        req.end();
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ Status: 'Succeeded', Output: '{"hello":"Ada"}' });
    } finally {
      await emu.close();
    }
  });
});

describe('fault knobs', () => {
  it('throttle: above N calls per second → 429 ResourceThrottled with Retry-After, recovering as the clock moves', async () => {
    const { clock, send } = setup({ faults: { throttle: 2 } });
    const codes: Array<number> = [];
    for (let i = 0; i < 3; i++) codes.push((await send(asRequest(await signedV3(clock.now())))).res.status);
    expect(codes).toEqual([200, 200, 429]);
    const limited = await send(asRequest(await signedV3(clock.now())));
    expect(limited.json.Code).toBe('ResourceThrottled');
    expect(limited.res.headers.get('retry-after')).toBe('1');
    clock.advance(500);
    expect((await send(asRequest(await signedV3(clock.now())))).res.status).toBe(200);
    expect((await send(asRequest(await signedV3(clock.now())))).res.status).toBe(429);
  });

  it('an unauthenticated call does not spend the throttle', async () => {
    const { clock, send } = setup({ faults: { throttle: 1 } });
    expect((await send(asRequest(await signedV3(clock.now(), { key: { accessKeyId: 'nobody', accessKeySecret: 'x' } })))).res.status).toBe(404);
    expect((await send(asRequest(await signedV3(clock.now())))).res.status).toBe(200);
  });

  it('failure rate: drawn from the injected random, a 500 InternalServerError before the action runs', async () => {
    const draws = [0.05, 0.5];
    const { clock, send, emulator } = setup({ faults: { failureRate: 0.1 }, random: () => draws.shift() ?? 0.9 });
    const definition = HELLO.replace('Name: hello', 'Name: other');
    const failed = await send(
      asRequest(await signedV3(clock.now(), { action: 'CreateFlow', body: { Name: 'other', Definition: definition, Description: '', Type: 'FDL' } })),
    );
    expect([failed.res.status, failed.json.Code]).toEqual([500, 'InternalServerError']);
    expect(emulator.store.get('other')).toBeUndefined();
    const retried = await send(
      asRequest(await signedV3(clock.now(), { action: 'CreateFlow', body: { Name: 'other', Definition: definition, Description: '', Type: 'FDL' } })),
    );
    expect(retried.res.status).toBe(200);
    expect(emulator.store.get('other')).toBeDefined();
  });

  it('latency: each call waits the added time on the injected sleep', async () => {
    const slept: number[] = [];
    const { clock, send } = setup({ faults: { latencyMs: 250 }, sleep: async (ms) => void slept.push(ms) });
    expect((await send(asRequest(await signedV3(clock.now(), { action: 'ListFlows', body: {} })))).res.status).toBe(200);
    expect(slept).toEqual([250]);
  });

  it('bad knob values throw when the emulator is created', () => {
    expect(() => createEmulator({ faults: { failureRate: 2 } })).toThrow(/failureRate/);
    expect(() => createEmulator({ faults: { throttle: 0 } })).toThrow(/throttle/);
    expect(() => createEmulator({ faults: { latencyMs: -1 } })).toThrow(/latencyMs/);
    expect(() => createEmulator({ keys: [] })).toThrow(/key/);
  });
});
