import type { Bytes } from '../lib/bytes.js';
import type { Clock } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import type { Random } from '../lib/random.js';
import { isoSeconds } from '../lib/iso-time.js';
import { parseJsonObject } from '../lib/json.js';
import { cryptoRandom } from '../lib/random.js';
import type { Credentials, CredentialsProvider } from './credentials.js';
import { webCrypto, type SigningCrypto } from './signing/digests.js';
import { encodeRfc3986, formBody, formText } from './signing/encoding.js';
import { signRpc } from './signing/rpc.js';
import { v3Signer } from './signing/v3.js';
import { upstreamTimeout, type Transport, type UpstreamResponse } from './transport.js';
import { API_VERSION, CloudFlowError, EXPIRED_TOKEN_CODE, type StartSyncExecutionRequest, type SyncExecutionResult } from './types.js';

export type SignatureVersion = 'v3' | 'rpc';

export interface CloudFlowClientOptions {
  /** `https://cn-hangzhou.fnf.aliyuncs.com`, `http://127.0.0.1:9400`, or a bare host (HTTPS is assumed). */
  endpoint: string;
  credentials: CredentialsProvider;
  /**
   * Called when the upstream refuses a call's keys as expired (`InvalidSecurityToken.Expired`), with the keys it
   * was signed with. True: newer keys may be had, and the call is signed and sent once more (within its
   * deadline). Absent or false: the refusal is the call's answer.
   */
  credentialsExpired?: ((used: Credentials) => boolean) | undefined;
  transport: Transport;
  signatureVersion?: SignatureVersion;
  /** Deadline for one call, in ms. Express executions run at most 5 minutes. */
  timeoutMs?: number;
  clock?: Clock;
  random?: Random;
  /** Digests for signing; Web Crypto by default, a synchronous provider on Node. */
  crypto?: SigningCrypto;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** W3C `traceparent` (and `tracestate`) to send with the call; not signed, as CloudFlow signs only its own headers. */
  trace?: { traceparent: string; tracestate?: string | undefined } | undefined;
}

export interface CloudFlowClient {
  readonly endpoint: string;
  startSyncExecution(request: StartSyncExecutionRequest, options?: CallOptions): Promise<SyncExecutionResult>;
}

const ACTION = 'StartSyncExecution';

export function endpointUrl(endpoint: string): URL {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`endpoint must be http(s): ${endpoint}`);
  return url;
}

export function regionEndpoint(region: string): string {
  return `https://${region}.fnf.aliyuncs.com`;
}

export function createCloudFlowClient(options: CloudFlowClientOptions): CloudFlowClient {
  const {
    credentials,
    credentialsExpired,
    transport,
    signatureVersion = 'v3',
    timeoutMs = 300_000,
    clock = systemClock,
    random = cryptoRandom,
    crypto: digests = webCrypto,
  } = options;
  if (typeof transport !== 'function') throw new TypeError('transport is required');
  if (typeof credentials !== 'function') throw new TypeError('credentials is required');
  if (signatureVersion !== 'v3' && signatureVersion !== 'rpc') throw new TypeError(`signatureVersion must be "v3" or "rpc", got ${String(signatureVersion)}`);
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number');
  const base = endpointUrl(options.endpoint);
  const origin = base.origin;
  const host = base.host;
  // Headers that never change between calls are built once.
  const fixedHeaders = {
    host,
    'content-type': 'application/x-www-form-urlencoded',
    'x-acs-action': ACTION,
    'x-acs-version': API_VERSION,
    accept: 'application/json',
  };
  const signV3 = v3Signer(fixedHeaders);

  async function buildRequest(
    creds: Credentials,
    body: Bytes,
    form: Record<string, string | Uint8Array>,
  ): Promise<{ url: string; headers: Record<string, string> }> {
    const date = isoSeconds(clock.now());
    const nonce = random.nonce();
    if (signatureVersion === 'v3') {
      const headers = await signV3(body, creds, { date, nonce, crypto: digests });
      return { url: origin + '/', headers };
    }
    const query: Record<string, string> = {
      Action: ACTION,
      Format: 'JSON',
      Version: API_VERSION,
      Timestamp: date,
      SignatureNonce: nonce,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      AccessKeyId: creds.accessKeyId,
    };
    if (creds.securityToken) query.SecurityToken = creds.securityToken;
    const signature = await signRpc('POST', { ...query, ...formText(form) }, creds.accessKeySecret, digests);
    let qs = '';
    for (const name in query) qs += (qs ? '&' : '') + name + '=' + encodeRfc3986(query[name]!);
    qs += '&Signature=' + encodeRfc3986(signature);
    return { url: origin + '/?' + qs, headers: { ...fixedHeaders } };
  }

  async function startSyncExecution(request: StartSyncExecutionRequest, call: CallOptions = {}): Promise<SyncExecutionResult> {
    const form: Record<string, string | Uint8Array> = { FlowName: request.flowName, Input: request.input };
    if (request.executionName) form.ExecutionName = request.executionName;
    if (request.qualifier) form.Qualifier = request.qualifier;
    const body = formBody(form);
    const started = clock.now();
    const limit = call.timeoutMs ?? timeoutMs;
    const elapsed = () => clock.now() - started;

    let response: UpstreamResponse;
    let text: string;
    let parsed: Record<string, unknown> | undefined;
    for (let attempt = 0; ; attempt++) {
      let creds: Credentials;
      try {
        creds = await credentials();
      } catch (cause) {
        throw new CloudFlowError('credentials', `no upstream credentials: ${cause instanceof Error ? cause.message : String(cause)}`, {
          durationMs: elapsed(),
          cause,
        });
      }
      const left = limit - elapsed();
      try {
        if (left <= 0) throw upstreamTimeout(limit);
        const { url, headers } = await buildRequest(creds, body, form);
        if (call.trace) {
          headers.traceparent = call.trace.traceparent;
          if (call.trace.tracestate !== undefined) headers.tracestate = call.trace.tracestate;
        }
        // The transport keeps the deadline (see UpstreamRequest.timeoutMs): on Node that costs no timer of our own.
        response = await transport({ url, method: 'POST', headers, body, timeoutMs: left, signal: call.signal });
        text = await response.text();
      } catch (cause) {
        if (cause instanceof Error && cause.name === 'TimeoutError')
          throw new CloudFlowError('timeout', `no answer within ${limit} ms`, { durationMs: elapsed(), cause });
        if (call.signal?.aborted) throw new CloudFlowError('aborted', 'the call was cancelled', { durationMs: elapsed(), cause });
        throw new CloudFlowError('network', describe(cause), { durationMs: elapsed(), cause });
      }
      parsed = parseJsonObject(text);
      // Temporary keys the upstream calls expired: once, with the keys a refresh brings (the caller decides).
      if (response.status === 200 || attempt > 0 || parsed?.Code !== EXPIRED_TOKEN_CODE || !credentialsExpired?.(creds)) break;
    }
    const durationMs = elapsed();
    if (response.status !== 200) {
      throw new CloudFlowError(
        'http',
        `HTTP ${response.status}${parsed ? `: ${String(parsed.Code)}: ${String(parsed.Message)}` : ' with a body that is not JSON'}`,
        {
          status: response.status,
          code: typeof parsed?.Code === 'string' ? parsed.Code : undefined,
          requestId: typeof parsed?.RequestId === 'string' ? parsed.RequestId : (response.header('x-acs-request-id') ?? undefined),
          retryAfter: response.header('retry-after') ?? undefined,
          durationMs,
        },
      );
    }
    if (!parsed || typeof parsed.Status !== 'string') {
      throw new CloudFlowError('invalid-response', parsed ? 'a 200 answer without Status' : 'a 200 answer that is not JSON', { status: 200, durationMs });
    }
    return {
      requestId: str(parsed.RequestId) ?? '',
      flowName: str(parsed.FlowName) ?? request.flowName,
      name: str(parsed.Name) ?? '',
      status: parsed.Status,
      output: str(parsed.Output),
      errorCode: str(parsed.ErrorCode),
      errorMessage: str(parsed.ErrorMessage),
      startedTime: str(parsed.StartedTime),
      stoppedTime: str(parsed.StoppedTime),
      durationMs,
    };
  }

  return { endpoint: origin, startSyncExecution };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code;
    return code ? `${cause.message} (${String(code)})` : cause.message;
  }
  return String(cause);
}
