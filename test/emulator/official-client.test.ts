import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { loadFlowsFolder, loadHandlers, startEmulator, type RunningEmulator } from '../../src/platform/node/emulator.js';

/**
 * The official Alibaba client (`@alicloud/openapi-client`) is the judge: it signs with V3 or with RPC HMAC-SHA1
 * (what the generated fnf SDKs use), with and without STS, and talks to the emulator over real HTTP. If the
 * emulator's verification or response shapes were off, the client would fail or parse something else.
 */
const require = createRequire(import.meta.url);
const clientRequire = createRequire(require.resolve('@alicloud/openapi-client'));
const OpenApi = clientRequire('@alicloud/openapi-client');
const { RuntimeOptions } = clientRequire('@alicloud/tea-util');

const STS = { accessKeyId: 'STS.testid', accessKeySecret: 'stssecret', securityToken: 'CAIS+token/with==chars' };
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

type Mode = { name: string; signing: 'v3' | 'rpc'; sts: boolean };
const MODES: Mode[] = [
  { name: 'V3', signing: 'v3', sts: false },
  { name: 'RPC HMAC-SHA1', signing: 'rpc', sts: false },
  { name: 'V3 with STS', signing: 'v3', sts: true },
  { name: 'RPC HMAC-SHA1 with STS', signing: 'rpc', sts: true },
];

interface ApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

let emu: RunningEmulator;

function client(mode: Mode) {
  const creds = mode.sts ? STS : { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
  const config = new OpenApi.Config({ ...creds, endpoint: `127.0.0.1:${emu.port}`, protocol: 'http', regionId: 'cn-hangzhou' });
  if (mode.signing === 'rpc') config.signatureAlgorithm = 'v2';
  const api = new OpenApi.default(config);
  return (action: string, body: Record<string, string | undefined>): Promise<ApiResult> => {
    const params = new OpenApi.Params({
      action,
      version: '2019-03-15',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const defined = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    return api.callApi(params, new OpenApi.OpenApiRequest({ body: defined }), new RuntimeOptions({ autoretry: false }));
  };
}

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    flows: loadFlowsFolder('examples/flows'),
    handlers: await loadHandlers('examples/handlers/index.mjs'),
    accessKeys: [
      { accessKeyId: 'testid', accessKeySecret: 'testsecret' },
      { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, securityTokens: [STS.securityToken] },
    ],
    timeScale: 0.001,
  });
});

afterAll(async () => {
  await emu.close();
});

const FLOW_V1 = `Type: StateMachine
SpecVersion: v1
StartAt: Say
States:
  - Type: Pass
    Name: Say
    OutputConstructor:
      version: 1
      echo.$: $Input.word
    End: true
`;
const FLOW_V2 = FLOW_V1.replace('version: 1', 'version: 2');

describe.each(MODES)('the official client, $name', (mode) => {
  it('StartSyncExecution answers with the documented fields', async () => {
    const call = client(mode);
    const res = await call('StartSyncExecution', { FlowName: 'hello', ExecutionName: 'greet_1', Input: JSON.stringify({ name: 'Ada' }) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-acs-request-id']).toBe(res.body.RequestId);
    expect(res.body).toEqual({
      RequestId: expect.stringMatching(/^[0-9A-F-]{36}$/),
      FlowName: 'hello',
      Name: expect.stringMatching(new RegExp(`^greet_1:${UUID}$`)),
      Status: 'Succeeded',
      Output: JSON.stringify({ message: 'Hello, Ada!' }),
      StartedTime: expect.stringMatching(ISO_MS),
      StoppedTime: expect.stringMatching(ISO_MS),
    });
  });

  it('a flow that fails is HTTP 200 with Status Failed, ErrorCode and ErrorMessage; a timeout is TimedOut', async () => {
    const call = client(mode);
    const failed = await call('StartSyncExecution', { FlowName: 'validate_order', Input: '{"items":[]}' });
    expect(failed.statusCode).toBe(200);
    expect(failed.body).toMatchObject({
      FlowName: 'validate_order',
      Status: 'Failed',
      ErrorCode: 'InvalidOrder',
      ErrorMessage: 'An order needs an orderId and at least one item.',
    });
    expect(failed.body.Output).toBeUndefined();
    expect(failed.body.Name).toMatch(new RegExp(`^${UUID}:${UUID}$`));
    const slow = await call('StartSyncExecution', { FlowName: 'slow' });
    expect(slow.body).toMatchObject({ Status: 'TimedOut', ErrorCode: 'FnF.Timeout' });
  });

  it('CreateFlow, DescribeFlow, ListFlows, UpdateFlow (a new version), qualifiers, DeleteFlow', async () => {
    const call = client(mode);
    const name = `made_${mode.signing}_${mode.sts ? 'sts' : 'ak'}`;
    const created = await call('CreateFlow', { Name: name, Definition: FLOW_V1, Description: 'made by a test', Type: 'FDL', ExecutionMode: 'Express' });
    expect(created.statusCode).toBe(200);
    expect(created.body).toEqual({
      RequestId: expect.any(String),
      Id: expect.stringMatching(new RegExp(`^${UUID}$`)),
      Name: name,
      Definition: FLOW_V1,
      Description: 'made by a test',
      Type: 'FDL',
      RoleArn: '',
      ExecutionMode: 'Express',
      CreatedTime: expect.stringMatching(ISO_MS),
      LastModifiedTime: expect.stringMatching(ISO_MS),
    });

    const described = await call('DescribeFlow', { Name: name });
    expect(described.body).toEqual({ ...created.body, RequestId: described.body.RequestId });

    const listed = await call('ListFlows', { Limit: '999' });
    const names = (listed.body.Flows as Array<{ Name: string }>).map((f) => f.Name);
    expect(names).toEqual(expect.arrayContaining(['hello', 'validate_order', name]));
    expect(names).toEqual([...names].sort());
    expect(listed.body.NextToken).toBeUndefined();

    const updated = await call('UpdateFlow', { Name: name, Definition: FLOW_V2, Description: 'second' });
    expect(updated.body).toMatchObject({ Name: name, Definition: FLOW_V2, Description: 'second', Id: created.body.Id, CreatedTime: created.body.CreatedTime });

    const run = async (qualifier?: string) =>
      JSON.parse(String((await call('StartSyncExecution', { FlowName: name, Qualifier: qualifier, Input: '{"word":"hi"}' })).body.Output));
    expect(await run()).toEqual({ version: 2, echo: 'hi' });
    expect(await run('1')).toEqual({ version: 1, echo: 'hi' });
    expect(await run('2')).toEqual({ version: 2, echo: 'hi' });
    await expect(call('StartSyncExecution', { FlowName: name, Qualifier: '3' })).rejects.toMatchObject({ code: 'FlowNotExists', statusCode: 404 });

    const deleted = await call('DeleteFlow', { Name: name });
    expect(deleted.body).toEqual({ RequestId: expect.any(String) });
    await expect(call('DescribeFlow', { Name: name })).rejects.toMatchObject({ code: 'FlowNotExists', statusCode: 404 });
  });

  it('errors reach the client as its own error, with code, statusCode and the request id', async () => {
    const call = client(mode);
    const error = (await call('StartSyncExecution', { FlowName: 'missing_flow' }).then(
      () => ({}),
      (e: unknown) => e,
    )) as Record<string, unknown>;
    expect(error).toMatchObject({ code: 'FlowNotExists', statusCode: 404 });
    expect(String(error.message)).toMatch(/^FlowNotExists: code: 404, Flow missing_flow does not exist\. request id: [0-9A-F-]{36}/);
    expect(error.data).toMatchObject({ Code: 'FlowNotExists', HostId: `127.0.0.1:${emu.port}`, Recommend: expect.stringContaining('q=FlowNotExists') });
  });
});

describe('the official client, limits and refusals', () => {
  const call = () => client(MODES[0]!);

  it('paginates ListFlows with Limit and NextToken', async () => {
    const first = await call()('ListFlows', { Limit: '3' });
    const second = await call()('ListFlows', { Limit: '3', NextToken: String(first.body.NextToken) });
    const names = [...(first.body.Flows as Array<{ Name: string }>), ...(second.body.Flows as Array<{ Name: string }>)].map((f) => f.Name);
    expect(names.slice(0, 6)).toEqual(['fanout', 'hello', 'map_items', 'quote', 'router', 'slow']);
    expect(first.body.NextToken).toBe('quote');
  });

  it('refuses Input that is not a JSON object, over 64 KiB, or a bad ExecutionName', async () => {
    await expect(call()('StartSyncExecution', { FlowName: 'hello', Input: '[1]' })).rejects.toMatchObject({ code: 'InvalidArgument', statusCode: 400 });
    await expect(call()('StartSyncExecution', { FlowName: 'hello', Input: '{nope' })).rejects.toMatchObject({ code: 'InvalidArgument', statusCode: 400 });
    await expect(call()('StartSyncExecution', { FlowName: 'hello', Input: JSON.stringify({ pad: 'x'.repeat(64 * 1024) }) })).rejects.toMatchObject({
      code: 'EntityTooLarge',
      statusCode: 400,
    });
    await expect(call()('StartSyncExecution', { FlowName: 'hello', ExecutionName: '9starts-with-digit' })).rejects.toMatchObject({
      code: 'InvalidArgument',
      statusCode: 400,
    });
    await expect(call()('StartSyncExecution', {})).rejects.toMatchObject({ code: 'MissingRequiredParams', statusCode: 400 });
  });

  it('refuses a Standard flow with ActionNotSupported, an unknown action and a wrong version', async () => {
    await call()('CreateFlow', { Name: 'standard_one', Definition: FLOW_V1, Description: '', Type: 'FDL', ExecutionMode: 'Standard' });
    await expect(call()('StartSyncExecution', { FlowName: 'standard_one' })).rejects.toMatchObject({
      code: 'ActionNotSupported',
      statusCode: 400,
      data: { Message: 'The requested API operation is incorrect. Standard execution is not supported.' },
    });
    await expect(call()('StartExecution', { FlowName: 'hello' })).rejects.toMatchObject({ code: 'ActionNotSupported', statusCode: 400 });
    const api = new OpenApi.default(
      new OpenApi.Config({ accessKeyId: 'testid', accessKeySecret: 'testsecret', endpoint: `127.0.0.1:${emu.port}`, protocol: 'http' }),
    );
    const params = new OpenApi.Params({
      action: 'StartSyncExecution',
      version: '2020-01-01',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    await expect(
      api.callApi(params, new OpenApi.OpenApiRequest({ body: { FlowName: 'hello' } }), new RuntimeOptions({ autoretry: false })),
    ).rejects.toMatchObject({ code: 'APIVersionNotSupported', statusCode: 400 });
  });

  it('refuses CreateFlow of an existing name and of a bad definition', async () => {
    await expect(call()('CreateFlow', { Name: 'hello', Definition: FLOW_V1, Description: '', Type: 'FDL' })).rejects.toMatchObject({
      code: 'FlowAlreadyExists',
      statusCode: 409,
    });
    await expect(
      call()('CreateFlow', { Name: 'broken', Definition: 'Type: StateMachine\nSpecVersion: v1\nStartAt: Nope\nStates: []\n', Description: '', Type: 'FDL' }),
    ).rejects.toMatchObject({
      code: 'InvalidArgument',
      statusCode: 400,
    });
  });

  it('a wrong STS token or a missing one is refused through the client', async () => {
    const wrong = new OpenApi.default(new OpenApi.Config({ ...STS, securityToken: 'not-the-token', endpoint: `127.0.0.1:${emu.port}`, protocol: 'http' }));
    const params = new OpenApi.Params({
      action: 'ListFlows',
      version: '2019-03-15',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    await expect(wrong.callApi(params, new OpenApi.OpenApiRequest({ body: {} }), new RuntimeOptions({ autoretry: false }))).rejects.toMatchObject({
      code: 'InvalidAccessKeyID',
      statusCode: 403,
      data: { Message: 'Invalid AccessKey ID. The SecurityToken does not belong to this AccessKey.' },
    });
    const none = new OpenApi.default(
      new OpenApi.Config({ accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, endpoint: `127.0.0.1:${emu.port}`, protocol: 'http' }),
    );
    await expect(none.callApi(params, new OpenApi.OpenApiRequest({ body: {} }), new RuntimeOptions({ autoretry: false }))).rejects.toMatchObject({
      code: 'InvalidAccessKeyID',
      data: { Message: 'Invalid AccessKey ID. This AccessKey requires a SecurityToken.' },
    });
  });
});
