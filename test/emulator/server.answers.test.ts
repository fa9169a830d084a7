/**
 * What the emulator answers beyond errors: the flow's Environment in the StartSyncExecution answer, long request
 * lines served (or refused in the envelope the official client reads), and the FDL reference's rules held at run
 * time as at load (Wait Seconds) and at CreateFlow (Description).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createEmulator } from '../../src/emulator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/platform/node/emulator.js';
import { signedCall } from './call.js';
import { runFlow } from './engine-helpers.js';

const require = createRequire(import.meta.url);
const clientRequire = createRequire(require.resolve('@alicloud/openapi-client'));
const OpenApi = clientRequire('@alicloud/openapi-client');
const { RuntimeOptions } = clientRequire('@alicloud/tea-util');

const ECHO = `Type: StateMachine\nSpecVersion: v1\nStartAt: S\nStates:\n  - {Type: Pass, Name: S, End: true}\n`;

describe('Environment', () => {
  it('appears in the StartSyncExecution answer when the flow has one, and not otherwise', async () => {
    const emulator = createEmulator({});
    const environment = { Variables: [{ Name: 'REGION', Value: 'cn-hangzhou', Description: 'where it runs' }] };
    const created = await signedCall(emulator, 'CreateFlow', {
      Name: 'with_env',
      Definition: ECHO,
      Description: 'has variables',
      Type: 'FDL',
      ExecutionMode: 'Express',
      Environment: JSON.stringify(environment),
    });
    expect(created.json.Environment).toEqual(environment);
    const run = await signedCall(emulator, 'StartSyncExecution', { FlowName: 'with_env' });
    expect(run.json).toMatchObject({ Status: 'Succeeded', Environment: { Variables: [{ Name: 'REGION', Value: 'cn-hangzhou' }] } });

    await signedCall(emulator, 'CreateFlow', { Name: 'without_env', Definition: ECHO, Description: '', Type: 'FDL', ExecutionMode: 'Express' });
    const plain = await signedCall(emulator, 'StartSyncExecution', { FlowName: 'without_env' });
    expect(plain.json.Status).toBe('Succeeded');
    expect(plain.json).not.toHaveProperty('Environment');
  });

  it('an Environment that is not {Variables:[{Name,Value}]} is refused at CreateFlow', async () => {
    const emulator = createEmulator({});
    for (const bad of ['{"Variables":[{"Name":"A"}]}', '{"Other":1}', '[]', 'nope']) {
      const answer = await signedCall(emulator, 'CreateFlow', { Name: 'bad_env', Definition: ECHO, Description: '', Type: 'FDL', Environment: bad });
      expect([bad, answer.status, answer.json.Code]).toEqual([bad, 400, 'InvalidArgument']);
    }
  });
});

describe('long request lines, through the official client', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({
      port: 0,
      maxRequestSize: 256 * 1024,
      flows: [{ name: 'echo', definition: ECHO.replace('StartAt', 'ExecutionMode: Express\nStartAt') }],
    });
  });
  afterAll(async () => {
    await emu.close();
  });

  const getCall = (input: string) => {
    const api = new OpenApi.default(
      new OpenApi.Config({ accessKeyId: 'testid', accessKeySecret: 'testsecret', endpoint: `127.0.0.1:${emu.port}`, protocol: 'http' }),
    );
    const params = new OpenApi.Params({
      action: 'StartSyncExecution',
      version: '2019-03-15',
      protocol: 'HTTP',
      pathname: '/',
      method: 'GET',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    return api.callApi(params, new OpenApi.OpenApiRequest({ query: { FlowName: 'echo', Input: input } }), new RuntimeOptions({ autoretry: false }));
  };

  it('a GET whose URL is far over 16 KiB is served', async () => {
    const input = JSON.stringify({ pad: 'x'.repeat(40 * 1024) });
    const res = await getCall(input);
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ Status: 'Succeeded', Output: input });
  });

  it('a request line past the largest request is answered in the JSON envelope, which the client reads', async () => {
    const error = await getCall(JSON.stringify({ pad: 'x'.repeat(400 * 1024) })).then(
      () => ({}),
      (e: unknown) => e as Record<string, unknown>,
    );
    expect(error).toMatchObject({ code: 'EntityTooLarge', statusCode: 400 });
    expect(error.data).toMatchObject({ Message: 'The payload size exceeds maximum allowed size (262144 bytes).', RequestId: expect.any(String) });
  });
});

describe('the FDL reference held at run time and at CreateFlow', () => {
  const wait = (seconds: string) =>
    `Type: StateMachine\nSpecVersion: v1\nName: w\nStartAt: W\nStates:\n  - {Type: Wait, Name: W, Seconds.$: '${seconds}', End: true}\n`;

  it.each(['0', '21', '2.5', '-1', '"5"'])('Wait Seconds.$ yielding %s fails the execution (Express: a whole number from 1 to 20)', async (seconds) => {
    const result = await runFlow(wait(seconds));
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError', errorMessage: expect.stringContaining('from 1 to 20') });
  });

  it('Wait Seconds.$ of 1 and of 20 wait that long', async () => {
    expect((await runFlow(wait('1'))).elapsed).toBe(1000);
    expect((await runFlow(wait('20'))).elapsed).toBe(20_000);
  });

  it('CreateFlow requires Description (it may be empty)', async () => {
    const emulator = createEmulator({});
    const missing = await signedCall(emulator, 'CreateFlow', { Name: 'no_description', Definition: ECHO, Type: 'FDL' });
    expect([missing.status, missing.json.Code, missing.json.Message]).toEqual([400, 'MissingRequiredParams', 'A required parameter is missing: Description.']);
    expect((await signedCall(emulator, 'CreateFlow', { Name: 'empty_description', Definition: ECHO, Type: 'FDL', Description: '' })).status).toBe(200);
  });
});
