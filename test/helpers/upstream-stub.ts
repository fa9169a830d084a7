import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import * as openApiUtilModule from '@alicloud/openapi-util';

// The package is CommonJS with an `exports.default` class; interop differs between loaders.
interface UtilClass {
  getRPCSignature(params: Record<string, string>, method: string, secret: string): string;
  getAuthorization(request: unknown, algorithm: string, payloadHash: string, accessKeyId: string, secret: string): string;
}
const OpenApiUtil = ((m: unknown) => ((m as { getRPCSignature?: unknown }).getRPCSignature ? m : (m as { default: unknown }).default))(
  openApiUtilModule.default,
) as UtilClass;

/**
 * A loopback stand-in for CloudFlow that verifies every signature it receives with the official
 * `@alicloud/openapi-util`, then answers as the test scripts it. It counts calls, so tests can prove
 * the upstream was never reached.
 */
export interface ReceivedCall {
  headers: Record<string, string>;
  query: Record<string, string>;
  form: Record<string, string>;
  body: string;
  signature: 'v3' | 'rpc';
}

export interface StubAnswer {
  status?: number;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Never answer (the socket stays open until the stub closes). */
  hang?: boolean;
  delayMs?: number;
}

export type Responder = (call: ReceivedCall) => StubAnswer | Promise<StubAnswer>;

export interface UpstreamStub {
  url: string;
  calls: ReceivedCall[];
  respond(responder: Responder): void;
  close(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };

export function succeeded(output: unknown, call?: ReceivedCall): StubAnswer {
  return {
    json: {
      RequestId: 'UP-REQ-1',
      FlowName: call?.form.FlowName ?? 'flow',
      Name: `${call?.form.ExecutionName ?? 'exec'}:11111111-2222-4333-8444-555555555555`,
      Status: 'Succeeded',
      Output: typeof output === 'string' ? output : JSON.stringify(output),
      StartedTime: '2024-01-01T00:00:00.000Z',
      StoppedTime: '2024-01-01T00:00:00.010Z',
    },
  };
}

export function upstreamError(status: number, code: string, message = 'upstream says no'): StubAnswer {
  return {
    status,
    json: { RequestId: 'UP-ERR-1', HostId: 'cn-hangzhou.fnf.aliyuncs.com', Code: code, Message: message, Recommend: 'https://example.invalid' },
  };
}

function verify(
  req: IncomingMessage,
  body: string,
  query: Record<string, string>,
  form: Record<string, string>,
  secret: string,
): { ok: true; signature: 'v3' | 'rpc' } | { ok: false; why: string } {
  const headers = req.headers as Record<string, string>;
  if (query.Signature) {
    const { Signature, ...params } = query;
    const expected = OpenApiUtil.getRPCSignature({ ...params, ...form }, 'POST', secret);
    return expected === Signature ? { ok: true, signature: 'rpc' } : { ok: false, why: 'rpc signature mismatch' };
  }
  const auth = headers.authorization;
  if (!auth) return { ok: false, why: 'no Authorization' };
  const hash = createHash('sha256').update(body).digest('hex');
  if (headers['x-acs-content-sha256'] !== hash) return { ok: false, why: 'content sha256 mismatch' };
  const signed: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'host' || name === 'content-type' || name.startsWith('x-acs-')) signed[name] = value;
  }
  const expected = OpenApiUtil.getAuthorization(
    { method: req.method, pathname: '/', headers: signed, query } as never,
    'ACS3-HMAC-SHA256',
    hash,
    TEST_CREDENTIALS.accessKeyId,
    secret,
  );
  return expected === auth ? { ok: true, signature: 'v3' } : { ok: false, why: 'v3 signature mismatch' };
}

export async function startUpstreamStub(options: { secret?: string } = {}): Promise<UpstreamStub> {
  const secret = options.secret ?? TEST_CREDENTIALS.accessKeySecret;
  const calls: ReceivedCall[] = [];
  let responder: Responder = (call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call);
  const open = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stub');
    const query = Object.fromEntries(url.searchParams);
    const form = Object.fromEntries(new URLSearchParams(body));
    const verdict = verify(req, body, query, form, secret);
    if (!verdict.ok) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RequestId: 'SIG', Code: 'SignatureDoesNotMatch', Message: verdict.why }));
      return;
    }
    const call: ReceivedCall = { headers: req.headers as Record<string, string>, query, form, body, signature: verdict.signature };
    calls.push(call);
    const answer = await responder(call);
    if (answer.hang) {
      open.add(res);
      return;
    }
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.raw ?? JSON.stringify(answer.json));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    respond(next) {
      responder = next;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
