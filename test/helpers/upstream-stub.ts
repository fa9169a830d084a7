import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import * as openApiUtilModule from '@alicloud/openapi-util';
import { deadlineSignal, type Transport } from '../../src/cloudflow/transport.js';

// The package is CommonJS with an `exports.default` class; interop differs between loaders.
interface UtilClass {
  getRPCSignature(params: Record<string, string>, method: string, secret: string): string;
  getAuthorization(request: unknown, algorithm: string, payloadHash: string, accessKeyId: string, secret: string): string;
}
const OpenApiUtil = ((m: unknown) => ((m as { getRPCSignature?: unknown }).getRPCSignature ? m : (m as { default: unknown }).default))(
  openApiUtilModule.default,
) as UtilClass;

/**
 * A stand-in for CloudFlow that verifies every signature it receives with the official
 * `@alicloud/openapi-util`, then answers as the test scripts it. It counts calls, so tests can prove
 * the upstream was never reached. Two ways to reach it, one behaviour:
 * - `startUpstreamStub()`: a loopback HTTP server, for gateways in other processes, workerd and the
 *   Node transport itself;
 * - `inProcessUpstream()`: a Transport that hands the gateway's signed request straight to the stub,
 *   keeping the transport contract (deadline, cancellation) without a socket.
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
  /** Never answer (the call stays open until its deadline, its cancellation, or the stub closes). */
  hang?: boolean;
}

export type Responder = (call: ReceivedCall) => StubAnswer | Promise<StubAnswer>;

export interface UpstreamStub {
  url: string;
  calls: ReceivedCall[];
  respond(responder: Responder): void;
  /** Resolves once `count` verified calls have arrived in all (at once if they already have). */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface InProcessUpstream extends UpstreamStub {
  /** What the gateway's client sends through instead of a connection pool. */
  transport: Transport;
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

/** One request as it reached the stub: header names in lower case, the path with its query. */
interface Incoming {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What the stub does with a request: an answer to send, or nothing (hang). */
type Reply = { status: number; headers: Record<string, string>; body: string } | 'hang';

function verify(
  incoming: Incoming,
  query: Record<string, string>,
  form: Record<string, string>,
  secret: string,
): { ok: true; signature: 'v3' | 'rpc' } | { ok: false; why: string } {
  const { headers, body } = incoming;
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
    { method: incoming.method, pathname: '/', headers: signed, query } as never,
    'ACS3-HMAC-SHA256',
    hash,
    TEST_CREDENTIALS.accessKeyId,
    secret,
  );
  return expected === auth ? { ok: true, signature: 'v3' } : { ok: false, why: 'v3 signature mismatch' };
}

/** The stub's behaviour, whatever carries the requests: verify, record, answer as scripted. */
function stubCore(secret: string) {
  const calls: ReceivedCall[] = [];
  const waiting = new Set<{ count: number; resolve: () => void }>();
  let responder: Responder = (call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call);

  async function handle(incoming: Incoming): Promise<Reply> {
    const url = new URL(incoming.path, 'http://stub');
    const query = Object.fromEntries(url.searchParams);
    const form = Object.fromEntries(new URLSearchParams(incoming.body));
    const verdict = verify(incoming, query, form, secret);
    if (!verdict.ok) {
      return {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ RequestId: 'SIG', Code: 'SignatureDoesNotMatch', Message: verdict.why }),
      };
    }
    const call: ReceivedCall = { headers: incoming.headers, query, form, body: incoming.body, signature: verdict.signature };
    calls.push(call);
    for (const waiter of waiting) {
      if (calls.length < waiter.count) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
    const answer = await responder(call);
    if (answer.hang) return 'hang';
    return {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json', ...answer.headers },
      body: answer.raw ?? JSON.stringify(answer.json),
    };
  }

  return {
    calls,
    handle,
    respond(next: Responder) {
      responder = next;
    },
    received(count: number): Promise<void> {
      if (calls.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiting.add({ count, resolve }));
    },
  };
}

/** The stub on a loopback HTTP port. */
export async function startUpstreamStub(options: { secret?: string } = {}): Promise<UpstreamStub> {
  const core = stubCore(options.secret ?? TEST_CREDENTIALS.accessKeySecret);
  const open = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = await core.handle({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers as Record<string, string>,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    if (reply === 'hang') {
      open.add(res);
      return;
    }
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: core.calls,
    respond: core.respond,
    received: core.received,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const inProcess = new Map<string, InProcessUpstream>();
let nextId = 0;

/** The in-process stub whose `url` is this endpoint, if one is open (the in-process gateway picks it up by its endpoint). */
export function inProcessUpstreamAt(endpoint: string): InProcessUpstream | undefined {
  try {
    return inProcess.get(new URL(endpoint).origin);
  } catch {
    return undefined;
  }
}

/**
 * The stub without a socket: `transport` hands each signed request to it and keeps the Transport
 * contract, so the gateway's deadline and cancellation behave as over a connection. A hung call ends
 * at its deadline, on cancellation, or when the stub closes (as a reset connection would).
 */
export function inProcessUpstream(options: { secret?: string } = {}): InProcessUpstream {
  const core = stubCore(options.secret ?? TEST_CREDENTIALS.accessKeySecret);
  const url = `http://upstream-${++nextId}.test`;
  const hung = new Set<(error: Error) => void>();
  let closed = false;
  const transport: Transport = async (request) => {
    const deadline = deadlineSignal(request.timeoutMs, request.signal);
    try {
      if (closed) throw new Error('connect ECONNREFUSED (the in-process upstream is closed)');
      const target = new URL(request.url);
      const headers: Record<string, string> = {};
      for (const name in request.headers) headers[name.toLowerCase()] = request.headers[name]!;
      headers.host ??= target.host;
      const replied = core
        .handle({ method: request.method, path: target.pathname + target.search, headers, body: new TextDecoder().decode(request.body) })
        .then((reply) => (reply === 'hang' ? new Promise<never>((_, reject) => hung.add(reject)) : reply));
      const reply = await deadline.race(replied);
      return {
        status: reply.status,
        header: (name) => reply.headers[name.toLowerCase()] ?? null,
        text: async () => (deadline.clear(), reply.body),
      };
    } catch (error) {
      deadline.clear();
      throw error;
    }
  };
  const stub: InProcessUpstream = {
    url,
    calls: core.calls,
    respond: core.respond,
    received: core.received,
    transport,
    async close() {
      closed = true;
      inProcess.delete(url);
      for (const reject of hung) reject(new Error('socket hang up (the in-process upstream closed)'));
      hung.clear();
    },
  };
  inProcess.set(url, stub);
  return stub;
}
