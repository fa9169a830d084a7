import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formEncode } from '../../src/cloudflow/signing/encoding.js';
import { isoSeconds } from '../../src/lib/iso-time.js';
import { signV3 } from '../../src/cloudflow/signing/v3.js';
import { createEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { loadFlowsFolder } from '../../src/platform/node/emulator.js';

/** Flow folders, aliases and qualifiers, versions from UpdateFlow, and the handling of bad flows. */
const flow = (name: string, version: number, mode = 'Express') => `Type: StateMachine
SpecVersion: v1
Name: ${name}
ExecutionMode: ${mode}
StartAt: Answer
States:
  - Type: Pass
    Name: Answer
    OutputConstructor:
      version: ${version}
    End: true
`;

let nonce = 0;
async function call(options: EmulatorOptions, steps: Array<{ action: string; params: Record<string, string> }>) {
  const emulator = createEmulator(options);
  const answers: Array<{ status: number; json: Record<string, unknown> }> = [];
  for (const { action, params } of steps) {
    const body = formEncode(params);
    const headers = await signV3(
      {
        method: 'POST',
        headers: { host: 'fnf.test', 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': action, 'x-acs-version': '2019-03-15' },
        body,
      },
      { accessKeyId: 'testid', accessKeySecret: 'testsecret' },
      { date: isoSeconds(Date.now()), nonce: `n${++nonce}` },
    );
    const res = await emulator.app.fetch(new Request('http://fnf.test/', { method: 'POST', headers, body }));
    answers.push({ status: res.status, json: (await res.json()) as Record<string, unknown> });
  }
  return answers;
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flows-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('flows folder, versions and aliases', () => {
  it('names flows after their files, reads aliases.yaml, and resolves a Qualifier by version or alias', async () => {
    const dir = folder({ 'greet.yaml': flow('greet', 1), 'aliases.yaml': 'greet:\n  prod: 1\n', 'README.txt': 'not a flow' });
    const flows = loadFlowsFolder(dir);
    expect(flows.map((f) => [f.name, f.aliases])).toEqual([['greet', { prod: 1 }]]);
    const [update, latest, byNumber, byAlias, unknown] = await call({ flows }, [
      { action: 'UpdateFlow', params: { Name: 'greet', Definition: flow('greet', 2) } },
      { action: 'StartSyncExecution', params: { FlowName: 'greet' } },
      { action: 'StartSyncExecution', params: { FlowName: 'greet', Qualifier: '2' } },
      { action: 'StartSyncExecution', params: { FlowName: 'greet', Qualifier: 'prod' } },
      { action: 'StartSyncExecution', params: { FlowName: 'greet', Qualifier: 'staging' } },
    ]);
    expect(update!.status).toBe(200);
    expect([latest!.json.Output, byNumber!.json.Output, byAlias!.json.Output]).toEqual(['{"version":2}', '{"version":2}', '{"version":1}']);
    expect([unknown!.status, unknown!.json.Code, unknown!.json.Message]).toEqual([404, 'FlowNotExists', 'Flow greet with Qualifier "staging" does not exist.']);
  });

  it('refuses a folder whose alias names a missing flow, and a flow whose Name disagrees with its file', () => {
    expect(() => loadFlowsFolder(folder({ 'a.yaml': flow('a', 1), 'aliases.yaml': 'b:\n  prod: 1\n' }))).toThrow(/flow "b" has no file/);
    const flows = loadFlowsFolder(folder({ 'a.yaml': flow('not_a', 1) }));
    expect(() => createEmulator({ flows })).toThrow(/a\.yaml: .*does not match the flow name "a"/);
    expect(() => createEmulator({ flows: [{ definition: flow('x', 1), aliases: { prod: 7 } }] })).toThrow(/no version 7/);
  });

  it('UpdateFlow keeps the execution mode: a definition that changes it is refused; an unknown flow is FlowNotExists', async () => {
    const [modeChange, missing] = await call({ flows: [{ definition: flow('f', 1) }] }, [
      { action: 'UpdateFlow', params: { Name: 'f', Definition: flow('f', 2, 'Standard') } },
      { action: 'UpdateFlow', params: { Name: 'nope', Description: 'x' } },
    ]);
    expect([modeChange!.status, modeChange!.json.Code]).toEqual([400, 'InvalidArgument']);
    expect(String(modeChange!.json.Message)).toMatch(/ExecutionMode/);
    expect([missing!.status, missing!.json.Code]).toEqual([404, 'FlowNotExists']);
  });

  it('CreateFlow checks Type, the name rule, and required parameters', async () => {
    const answers = await call({}, [
      { action: 'CreateFlow', params: { Name: 'ok', Definition: flow('ok', 1), Description: '', Type: 'ASL' } },
      { action: 'CreateFlow', params: { Name: '1bad', Definition: flow('x', 1), Description: '', Type: 'FDL' } },
      { action: 'CreateFlow', params: { Name: 'nodef', Type: 'FDL' } },
      { action: 'ListFlows', params: { Limit: '0' } },
    ]);
    expect(answers.map((a) => a.json.Code)).toEqual(['InvalidArgument', 'InvalidArgument', 'MissingRequiredParams', 'InvalidArgument']);
  });

  it('a Local task without a handler fails the execution (HTTP 200, Status Failed) before it starts', async () => {
    const definition = flow('t', 1).replace(
      '  - Type: Pass\n    Name: Answer\n    OutputConstructor:\n      version: 1\n',
      '  - Type: Task\n    Name: Answer\n    Action: Local:missing\n',
    );
    const [answer] = await call({ flows: [{ definition }] }, [{ action: 'StartSyncExecution', params: { FlowName: 't', ExecutionName: 'e' } }]);
    expect(answer!.status).toBe(200);
    expect(answer!.json).toMatchObject({ Status: 'Failed', ErrorCode: 'FnF.ActionNotSupported', Name: expect.stringMatching(/^e:/) });
  });
});
