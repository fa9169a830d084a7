import type { Context, MiddlewareHandler, Next } from 'hono';
import { responseText } from '../lib/response-text.js';
import { sha256Hex, type Sha256Hex } from '../cloudflow/signing/digests.js';
import type { AppEnv } from '../env.js';
import { GatewayError, gatewayError, storeUnavailable } from '../errors.js';
import { ackBody } from '../executions/ack-body.js';
import { LEASE_MARGIN_MS, executionKey, type ExecutionRecord } from '../executions/record.js';
import type { Random } from '../lib/random.js';
import { utf8 } from '../lib/bytes.js';
import { guardStoreCall } from '../lib/store-result.js';
import { parseIdempotencyKey, requestFingerprint } from './keys.js';
import { parseRecord, type RecordStore, type RequestRecord, type StoredResponse } from '../records/types.js';

export interface IdempotencyOptions {
  store: RecordStore;
  random: Random;
  /** A store call slower than this counts as failed (`storeOptions.timeout`). */
  storeTimeoutMs: number;
  /** `storeOptions.onError`: open runs the request without the record, closed answers 503. */
  onError: 'open' | 'closed';
  /** `upstream.timeout`; a flow's own `timeout` wins. The in-flight lease is this plus a margin. */
  upstreamTimeoutMs: number;
  /** The digest of key scopes and request fingerprints; Web Crypto by default, synchronous node:crypto on Node. */
  digest?: Sha256Hex | undefined;
}

interface Scope {
  kind: 'delivery' | 'key';
  key: string;
  ttlMs: number;
}

/** Headers that are part of the answer itself; everything else (request id, timing, limits) belongs to the retry. */
const REPLAYED_HEADERS = ['content-type', 'x-execution-name', 'location'];
/** Answers that say "not now" rather than "this is the result": the key is released so a retry may run. */
const RELEASED_STATUSES = new Set([408, 409, 425, 429]);

/**
 * Delivery de-duplication (webhook flows) and `Idempotency-Key` (flows with `idempotency`), one mechanism:
 * the first request claims the key, runs, and stores its final answer; a retry with the same key gets that
 * answer again, marked `Idempotent-Replayed: true`. A delivery id comes from `verifyWebhook`, from a header
 * or (Stripe, Slack, Discord) from the decoded body.
 */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler<AppEnv> {
  const { store, random, storeTimeoutMs, onError, upstreamTimeoutMs, digest = sha256Hex } = options;
  if (typeof digest !== 'function') throw new TypeError('digest must be a function');
  if (!store) throw new TypeError('idempotency needs a record store');
  if (!Number.isFinite(storeTimeoutMs) || storeTimeoutMs <= 0) throw new TypeError('storeTimeoutMs must be a positive number');
  if (onError !== 'open' && onError !== 'closed') throw new TypeError('onError must be "open" or "closed"');
  if (!Number.isFinite(upstreamTimeoutMs) || upstreamTimeoutMs <= 0) throw new TypeError('upstreamTimeoutMs must be a positive number');

  // Requests that can have no record pass straight through, synchronously (docs/design.md, "Rules for the hot path").
  return function idempotency(c, next) {
    const flow = c.get('flow');
    if (!flow.idempotency && !(flow.webhook && c.get('webhook'))) return next();
    return recorded(c, next);
  };

  async function recorded(c: Context<AppEnv>, next: Next): Promise<Response | void> {
    const scope = await scopeOf(c);
    if (!scope) return next();
    const flow = c.get('flow');
    const log = c.get('log');
    const fingerprint = scope.kind === 'key' ? await requestFingerprint(fingerprintBytes(c), c.get('qualifier'), digest) : '';
    const token = random.uuid();
    const executionName = c.get('executionName');
    const leaseMs = (flow.timeout ?? upstreamTimeoutMs) + LEASE_MARGIN_MS;
    const claim: RequestRecord = { state: 'in-flight', token, fingerprint, executionName };

    const claimed = await guardStoreCall(() => store.claim(scope.key, JSON.stringify(claim), leaseMs), storeTimeoutMs);
    if (!claimed.ok) {
      log.detail = `record store ${claimed.error}`;
      if (onError === 'closed') throw storeUnavailable('request record store');
      log.idempotency = 'bypass';
      return next();
    }
    if (claimed.value !== undefined) return answerExisting(c, scope, fingerprint, parseRecord<RequestRecord>(claimed.value));

    log.idempotency = 'new';
    // An ack flow may give the execution a fresh name (its derived one was in use); retries meanwhile must see that one.
    c.set('executionRenamed', async (name) => {
      const renamed: RequestRecord = { state: 'in-flight', token, fingerprint, executionName: name };
      const updated = await guardStoreCall(() => store.complete(scope.key, token, JSON.stringify(renamed), leaseMs), storeTimeoutMs);
      if (!updated.ok) log.detail = `record store ${updated.error}; a retry meanwhile may see the derived execution name`;
    });
    try {
      await next();
    } catch (error) {
      // Errors normally arrive rendered in c.res; anything thrown past that leaves no answer to keep.
      await guardStoreCall(() => store.release(scope.key, token), storeTimeoutMs);
      throw error;
    }
    if (!isFinalAnswer(c)) {
      const released = await guardStoreCall(() => store.release(scope.key, token), storeTimeoutMs);
      if (!released.ok) log.detail = `record store ${released.error}; the key stays claimed until its lease ends`;
      return;
    }
    const done: RequestRecord = {
      state: 'done',
      fingerprint,
      executionName: c.get('executionName'),
      response: await storedResponse(c.res, c.get('proxyHeaders')),
    };
    const completed = await guardStoreCall(() => store.complete(scope.key, token, JSON.stringify(done), scope.ttlMs), storeTimeoutMs);
    if (!completed.ok) log.detail = `record store ${completed.error}; the answer was not kept for replay`;
    else if (!completed.value) log.detail = 'the in-flight lease ended before the answer; another request holds the key';
  }

  async function scopeOf(c: Context<AppEnv>): Promise<Scope | undefined> {
    const flow = c.get('flow');
    const webhook = c.get('webhook');
    if (flow.webhook && webhook?.deliveryId !== undefined) {
      return { kind: 'delivery', key: `dlv:${flow.name}:${webhook.deliveryId}`, ttlMs: flow.webhook.dedupeTtl };
    }
    if (!flow.idempotency) return undefined;
    const header = c.req.header('idempotency-key');
    if (header === undefined) {
      if (flow.idempotency.required) throw gatewayError('MissingIdempotencyKey', undefined);
      return undefined;
    }
    const key = parseIdempotencyKey(header);
    if (key === undefined) throw gatewayError('InvalidArgument', 'Idempotency-Key must be 1 to 255 visible ASCII characters, optionally in double quotes.');
    // Keys are scoped per flow and per caller: one caller's key can never replay another caller's answer.
    const scoped = await digest(`${c.get('caller').id}\n${key}`);
    return { kind: 'key', key: `idem:${flow.name}:${scoped}`, ttlMs: flow.idempotency.ttl };
  }

  async function answerExisting(c: Context<AppEnv>, scope: Scope, fingerprint: string, record: RequestRecord | undefined): Promise<Response> {
    const log = c.get('log');
    if (record && record.fingerprint !== fingerprint) {
      log.idempotency = 'mismatch';
      throw gatewayError('IdempotencyKeyMismatch', undefined);
    }
    if (record?.state === 'done') {
      log.idempotency = 'replayed';
      if (record.response.status === 202) return replay(c, await withCurrentStatus(record.response, c.get('caller').id, record.executionName));
      return replay(c, record.response);
    }
    log.idempotency = 'in-flight';
    // An ack flow has already acknowledged (or is about to): the sender gets the same acknowledgement, not an error it would retry.
    if (c.get('flow').mode === 'ack' && record) {
      return c.json(ackBody(c.get('requestId'), record.executionName, 'Running'), 202, {
        location: `/executions/${record.executionName}`,
        'x-execution-name': record.executionName,
      });
    }
    throw gatewayError(
      'Conflict',
      scope.kind === 'delivery' ? 'This delivery is already being processed.' : 'A request with this Idempotency-Key is still being processed. Retry later.',
      {
        headers: { 'retry-after': '1' },
      },
    );
  }

  /** A replayed acknowledgement reports where the execution stands now, not where it stood at 202 time. */
  async function withCurrentStatus(response: StoredResponse, callerId: string, executionName: string): Promise<StoredResponse> {
    // Records are per caller, and a key or delivery record is too: the replaying caller started it.
    const found = await guardStoreCall(() => store.get(executionKey(callerId, executionName)), storeTimeoutMs);
    const execution = found.ok ? parseRecord<ExecutionRecord>(found.value) : undefined;
    const body = parseRecord<Record<string, unknown>>(response.body);
    if (!execution || !body) return response;
    return { ...response, body: JSON.stringify({ ...body, Status: execution.status }) };
  }
}

function replay(c: Context<AppEnv>, response: StoredResponse): Response {
  // A stored 204 (a `response: proxy` answer) has the empty string as its body; the answer must have none.
  const headers = { ...response.headers, 'idempotent-replayed': 'true' };
  if (response.status === 204 || response.status === 205 || response.status === 304) return c.body(null, response.status as 204, headers);
  return c.body(response.body, response.status as 200, headers);
}

/**
 * Which answers are kept and replayed: anything an execution produced (Succeeded, or Failed/TimedOut/Stopped
 * with its mapped status), and the other answers a retry would only repeat. Released: throttling, conflicts,
 * and gateway or transport failures (5xx without an execution result), where a retry may well succeed.
 */
function isFinalAnswer(c: Context<AppEnv>): boolean {
  // A `response: proxy` answer is the execution's own, whatever its status.
  if (c.get('proxyHeaders')) return true;
  const error = c.error;
  if (error instanceof GatewayError && 'ExecutionName' in error.extra) return true;
  const { status } = c.res;
  return status < 500 && !RELEASED_STATUSES.has(status);
}

/**
 * What makes two requests with one key "the same request": on /flows/{name}/run the body bytes; on a route the
 * route and the Input built from the path, query, headers and body, since a GET has no body to tell them apart.
 */
function fingerprintBytes(c: Context<AppEnv>): Uint8Array<ArrayBuffer> {
  const route = c.get('route');
  return route ? utf8(`${route.config.method} ${route.config.path}\n${c.get('input').text}`) : c.get('rawBody');
}

async function storedResponse(res: Response, proxyHeaders: readonly string[] | undefined): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  for (const name of proxyHeaders ? [...REPLAYED_HEADERS, ...proxyHeaders] : REPLAYED_HEADERS) {
    // Set-Cookie cannot be joined with ", " (RFC 6265 §3); a record keeps one value per name, so it is not replayed.
    if (name === 'set-cookie') continue;
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: res.status, headers, body: await responseText(res) };
}
