/** Signed calls to an in-process emulator app, for the tests that are about what the emulator answers. */
import { formEncode } from '../../src/cloudflow/signing/encoding.js';
import { signV3 } from '../../src/cloudflow/signing/v3.js';
import type { Emulator } from '../../src/emulator/index.js';
import { isoSeconds } from '../../src/lib/iso-time.js';

export interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}

let nonce = 0;

/** One V3-signed call with key testid/testsecret, dated by `now` (default: the real clock). */
export async function signedCall(
  emulator: Emulator,
  action: string,
  params: Record<string, string>,
  options: { now?: number; key?: { accessKeyId: string; accessKeySecret: string } } = {},
): Promise<Answer> {
  const body = formEncode(params);
  const headers = await signV3(
    {
      method: 'POST',
      headers: { host: 'fnf.test', 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': action, 'x-acs-version': '2019-03-15' },
      body,
    },
    options.key ?? { accessKeyId: 'testid', accessKeySecret: 'testsecret' },
    { date: isoSeconds(options.now ?? Date.now()), nonce: `call-${++nonce}-${Math.random().toString(16).slice(2)}` },
  );
  const res = await emulator.app.fetch(new Request('http://fnf.test/', { method: 'POST', headers, body }));
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

/** CreateFlow (Express) then StartSyncExecution with `input` as the exact Input text. */
export async function createAndRun(emulator: Emulator, name: string, definition: string, input: string): Promise<Answer> {
  const created = await signedCall(emulator, 'CreateFlow', { Name: name, Definition: definition, Description: 'test', Type: 'FDL', ExecutionMode: 'Express' });
  if (created.status !== 200) throw new Error(`CreateFlow ${name}: ${created.text}`);
  return signedCall(emulator, 'StartSyncExecution', { FlowName: name, Input: input });
}
