/**
 * The error table of the API reference's StartSyncExecution page, row by row: each row is provoked with a real
 * signed call, and the answer's HTTP status, Code and Message are asserted, in the envelope
 * `{RequestId, HostId, Code, Message, Recommend}`. Beside each row, what the same call gets with
 * `errorCodes: 'pop'` (the POP gateway's codes), as docs/emulator.md shows them side by side. One more row, the
 * same in both: `InvalidSecurityToken.Expired` for a temporary key (from the emulator's STS) past its expiry.
 */
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions, type ErrorCodes } from '../../src/emulator/index.js';
import { manualClock } from '../../src/lib/clock.js';
import { send, signedRequest, TEST_KEY, type Answer } from './call.js';

const flow = (name: string, mode: string) =>
  `Type: StateMachine\nSpecVersion: v1\nName: ${name}\nExecutionMode: ${mode}\nStartAt: S\nStates:\n  - {Type: Pass, Name: S, End: true}\n`;
const LIMITED = { accessKeyId: 'limited', accessKeySecret: 'limitedsecret', flows: ['hello'] };
const HELLO = { FlowName: 'hello', Input: '{}' };

interface Context {
  now: number;
  clock: ReturnType<typeof manualClock>;
  emulator: Emulator;
  call(action: string, params: Record<string, string>, options?: Parameters<typeof signedRequest>[2]): Promise<Answer>;
}

type Expected = [status: number, code: string, message: RegExp];

interface Row {
  /** The row as the API reference has it: Code and HTTP status, and the message format the emulator fills in. */
  api: Expected;
  /** The same call in the POP vocabulary. */
  pop: Expected;
  options?: EmulatorOptions;
  provoke(ctx: Context): Promise<Answer>;
}

const same = (expected: Expected): { api: Expected; pop: Expected } => ({ api: expected, pop: expected });

const ROWS: Record<string, Row> = {
  EntityTooLarge: {
    ...same([400, 'EntityTooLarge', /^The payload size exceeds maximum allowed size \(65536 bytes\)\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', { FlowName: 'hello', Input: JSON.stringify({ pad: 'x'.repeat(64 * 1024) }) }),
  },
  InvalidArgument: {
    ...same([400, 'InvalidArgument', /^Parameter error\. Input must be a JSON object\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', { FlowName: 'hello', Input: '[1]' }),
  },
  MissingRequiredHeader: {
    api: [400, 'MissingRequiredHeader', /^Missing required header: x-acs-date\.$/],
    pop: [400, 'IncompleteSignature', /^The request signature does not conform to Aliyun standards\. .*x-acs-date\.$/],
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { after: { 'x-acs-date': undefined } }),
  },
  MissingRequiredParams: {
    ...same([400, 'MissingRequiredParams', /^A required parameter is missing: FlowName\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', { Input: '{}' }),
  },
  ActionNotSupported: {
    ...same([400, 'ActionNotSupported', /^The requested API operation is incorrect\. Standard execution is not supported\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', { FlowName: 'standard_one' }),
  },
  APIVersionNotSupported: {
    ...same([400, 'APIVersionNotSupported', /^The requested API version is not supported\. "2020-01-01" is not served; use 2019-03-15\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { version: '2020-01-01' }),
  },
  InternalServerError: {
    ...same([500, 'InternalServerError', /^Internal error, please retry\.$/]),
    options: { faults: { failureRate: 1 }, random: () => 0 },
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO),
  },
  InvalidAccessKeyID: {
    api: [403, 'InvalidAccessKeyID', /^Invalid AccessKey ID\. The AccessKey ID nobody is not known\.$/],
    pop: [404, 'InvalidAccessKeyId.NotFound', /^Specified access key is not found\.$/],
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { key: { accessKeyId: 'nobody', accessKeySecret: 'x' } }),
  },
  RequestTimeTooSkewed: {
    api: [
      403,
      'RequestTimeTooSkewed',
      /^The request time is too skewed from the server time\. The request date 2024-01-01T11:44:00Z is too far from the server time\. It must be within 15 minutes of the server time\.$/,
    ],
    pop: [400, 'InvalidTimeStamp.Expired', /^Specified time stamp or date value is expired\. It must be within 15 minutes of the server time\.$/],
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { now: ctx.now - 16 * 60_000 }),
  },
  SignatureNotMatch: {
    api: [403, 'SignatureNotMatch', /^The request signature does not match\. The signature was not calculated from this request and the key secret\.$/],
    pop: [400, 'SignatureDoesNotMatch', /^Specified signature is not matched with our calculation\.$/],
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { key: { accessKeyId: TEST_KEY.accessKeyId, accessKeySecret: 'wrong' } }),
  },
  AccessDenied: {
    api: [403, 'AccessDenied', /^The resource does not belong to you\. AccessKey limited may not act on flow other\.$/],
    pop: [403, 'Forbidden.RAM', /^User not authorized to operate on the specified resource\. AccessKey limited may not act on flow other\.$/],
    provoke: (ctx) => ctx.call('StartSyncExecution', { FlowName: 'other' }, { key: LIMITED }),
  },
  'InvalidSecurityToken.Expired': {
    ...same([400, 'InvalidSecurityToken.Expired', /^Specified SecurityToken is expired\.$/]),
    provoke: async (ctx) => {
      const key = ctx.emulator.sts.issue(900);
      ctx.clock.advance(900_000);
      return ctx.call('StartSyncExecution', HELLO, { key });
    },
  },
  FlowNotExists: {
    ...same([404, 'FlowNotExists', /^Flow missing_flow does not exist\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', { FlowName: 'missing_flow' }),
  },
  UnsupportedMediaType: {
    ...same([415, 'UnsupportedMediaType', /^The content type is not supported: "application\/json"; send application\/x-www-form-urlencoded\.$/]),
    provoke: (ctx) => ctx.call('StartSyncExecution', HELLO, { after: { 'content-type': 'application/json' } }),
  },
  ResourceThrottled: {
    ...same([429, 'ResourceThrottled', /^The request is throttled\. Please try again later\.$/]),
    options: { faults: { throttle: 1 } },
    provoke: async (ctx) => {
      await ctx.call('StartSyncExecution', HELLO);
      return ctx.call('StartSyncExecution', HELLO);
    },
  },
};

function setup(errorCodes: ErrorCodes, options: EmulatorOptions = {}): Context {
  const clock = manualClock(Date.UTC(2024, 0, 1, 12));
  const emulator = createEmulator({
    errorCodes,
    clock,
    keys: [TEST_KEY, LIMITED],
    flows: [{ definition: flow('hello', 'Express') }, { definition: flow('standard_one', 'Standard') }, { definition: flow('other', 'Express') }],
    ...options,
  });
  return {
    now: clock.now(),
    clock,
    emulator,
    call: async (action, params, callOptions = {}) => send(emulator, await signedRequest(action, params, { now: clock.now(), ...callOptions })),
  };
}

describe.each(['api', 'pop'] as const)('errors in the %s vocabulary', (codes) => {
  it.each(Object.entries(ROWS))('%s', async (_row, row) => {
    const ctx = setup(codes, row.options);
    const answer = await row.provoke(ctx);
    const [status, code, message] = row[codes];
    expect([answer.status, answer.json.Code]).toEqual([status, code]);
    expect(answer.json.Message).toMatch(message);
    expect(Object.keys(answer.json)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    expect(answer.json).toMatchObject({ HostId: 'fnf.test', Recommend: expect.stringContaining(`q=${encodeURIComponent(code)}`) });
    expect(answer.headers.get('x-acs-request-id')).toBe(answer.json.RequestId);
    if (code === 'ResourceThrottled') expect(answer.headers.get('retry-after')).toBe('1');
  });
});

describe('the rows that need more than one call', () => {
  it('ExecutionAlreadyExists never applies to StartSyncExecution: the same ExecutionName runs twice, under two names', async () => {
    const ctx = setup('api');
    const first = await ctx.call('StartSyncExecution', { ...HELLO, ExecutionName: 'same_name' });
    const second = await ctx.call('StartSyncExecution', { ...HELLO, ExecutionName: 'same_name' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.json.Name).toMatch(/^same_name:/);
    expect(second.json.Name).toMatch(/^same_name:/);
    expect(first.json.Name).not.toBe(second.json.Name);
  });

  it('a key limited to some flows runs those, acts on no other, and lists only its own', async () => {
    const ctx = setup('api');
    expect((await ctx.call('StartSyncExecution', HELLO, { key: LIMITED })).status).toBe(200);
    for (const [action, params] of [
      ['DescribeFlow', { Name: 'other' }],
      ['DeleteFlow', { Name: 'other' }],
      ['UpdateFlow', { Name: 'other', Description: 'x' }],
      ['CreateFlow', { Name: 'brand_new', Definition: flow('brand_new', 'Express'), Description: '', Type: 'FDL' }],
    ] as const) {
      expect([action, (await ctx.call(action, params, { key: LIMITED })).json.Code]).toEqual([action, 'AccessDenied']);
    }
    const listed = await ctx.call('ListFlows', {}, { key: LIMITED });
    expect((listed.json.Flows as Array<{ Name: string }>).map((f) => f.Name)).toEqual(['hello']);
    expect((await ctx.call('DescribeFlow', { Name: 'other' })).status).toBe(200);
  });

  it('other refusals are answered from the same table: no signature at all, a malformed one, an unknown route', async () => {
    const api = setup('api');
    const unsigned = await api.call('ListFlows', {}, { after: { authorization: undefined } });
    expect([unsigned.status, unsigned.json.Code, unsigned.json.Message]).toEqual([
      400,
      'MissingRequiredHeader',
      'Missing required header: Authorization (or an RPC Signature parameter).',
    ]);
    const malformed = await api.call('ListFlows', {}, { after: { authorization: 'ACS3-HMAC-SHA256 Credential=testid' } });
    expect([malformed.status, malformed.json.Code]).toEqual([403, 'SignatureNotMatch']);
    const emulator = createEmulator({});
    const route = await send(emulator, new Request('http://fnf.test/flows', { method: 'POST' }));
    expect([route.status, route.json.Code, route.json.Message]).toEqual([
      400,
      'ActionNotSupported',
      'The requested API operation is incorrect. Only GET and POST on / are served, not POST /flows.',
    ]);
    const popRoute = await send(createEmulator({ errorCodes: 'pop' }), new Request('http://fnf.test/flows', { method: 'POST' }));
    expect([popRoute.status, popRoute.json.Code]).toEqual([404, 'InvalidApi.NotFound']);
  });

  it('a FlowName that breaks the naming rule is 400 InvalidArgument, not 404', async () => {
    const ctx = setup('api');
    for (const [action, params] of [
      ['StartSyncExecution', { FlowName: '9lives' }],
      ['DescribeFlow', { Name: 'has space' }],
      ['DeleteFlow', { Name: 'x'.repeat(129) }],
    ] as const) {
      const answer = await ctx.call(action, params);
      expect([action, answer.status, answer.json.Code]).toEqual([action, 400, 'InvalidArgument']);
      expect(answer.json.Message).toMatch(/^Parameter error\. (FlowName|Name) must be 1-128 letters/);
    }
  });

  it('bad options are refused when the emulator is created', () => {
    expect(() => createEmulator({ errorCodes: 'aws' as ErrorCodes })).toThrow(/errorCodes must be "api" or "pop"/);
    expect(() => createEmulator({ keys: [{ ...TEST_KEY, flows: ['bad name'] }] })).toThrow(/flows must be a list of flow names/);
  });
});
