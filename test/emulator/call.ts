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

export const TEST_KEY = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };

export interface CallOptions {
  /** The request date. Default: the real clock. */
  now?: number;
  /** A temporary key's token is sent as `x-acs-security-token`. */
  key?: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };
  /** `x-acs-version`. Default 2019-03-15. */
  version?: string;
  /** Changes made to the headers after signing (undefined removes one). */
  after?: Record<string, string | undefined>;
}

let nonce = 0;

/** One V3-signed request, as the official client sends it. */
export async function signedRequest(action: string, params: Record<string, string>, options: CallOptions = {}): Promise<Request> {
  const body = formEncode(params);
  const headers = await signV3(
    {
      method: 'POST',
      headers: {
        host: 'fnf.test',
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-action': action,
        'x-acs-version': options.version ?? '2019-03-15',
      },
      body,
    },
    options.key ?? TEST_KEY,
    { date: isoSeconds(options.now ?? Date.now()), nonce: `call-${++nonce}-${Math.random().toString(16).slice(2)}` },
  );
  for (const [name, value] of Object.entries(options.after ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return new Request('http://fnf.test/', { method: 'POST', headers, body });
}

export async function send(emulator: Emulator, request: Request): Promise<Answer> {
  const res = await emulator.app.fetch(request);
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

/** One V3-signed call with key testid/testsecret (unless another is given). */
export async function signedCall(emulator: Emulator, action: string, params: Record<string, string>, options: CallOptions = {}): Promise<Answer> {
  return send(emulator, await signedRequest(action, params, options));
}

/** CreateFlow (Express) then StartSyncExecution with `input` as the exact Input text. */
export async function createAndRun(emulator: Emulator, name: string, definition: string, input: string): Promise<Answer> {
  const created = await signedCall(emulator, 'CreateFlow', { Name: name, Definition: definition, Description: 'test', Type: 'FDL', ExecutionMode: 'Express' });
  if (created.status !== 200) throw new Error(`CreateFlow ${name}: ${created.text}`);
  return signedCall(emulator, 'StartSyncExecution', { FlowName: name, Input: input });
}
