import type { Context } from 'hono';
import { textResponse } from '../lib/response-text.js';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { parseCacheControl } from '../cache/directives.js';
import { cacheKey, cacheScope } from '../cache/key.js';
import { createResponseCache } from '../cache/response-cache.js';
import { CloudFlowError } from '../cloudflow/types.js';
import { mapExecution, mapUpstreamError, type SuccessOutcome } from '../cloudflow/mapping.js';
import { contextHeaders, markStamped } from '../middleware/request-context.js';
import { GatewayError } from '../errors.js';
import { proxyAnswer, type ProxyAnswer } from './proxy-answer.js';
import { outgoingTraceparent } from '../lib/trace-context.js';

/** The request's trace for the upstream call, the gateway's span as the parent; none without requestContext. */
function upstreamTrace(c: Context<AppEnv>): { traceparent: string; tracestate: string | undefined } | undefined {
  const trace = c.get('stamp')?.trace;
  return trace ? { traceparent: outgoingTraceparent(trace), tracestate: trace.tracestate } : undefined;
}

/** The Input for the upstream call: its bytes as the caller sent them when the gateway holds them, else its text. */
function upstreamInput(c: Context<AppEnv>): string | Uint8Array {
  const input = c.get('input');
  return input.utf8 ?? input.text;
}

/**
 * The one upstream call behind `POST /flows/{name}/run`: sign, send, map. Returns the success
 * outcome or throws the caller-facing GatewayError; the log line gets the upstream's side.
 */
export async function runExecution(deps: Deps, c: Context<AppEnv>, signal?: AbortSignal, log = c.get('log')): Promise<SuccessOutcome> {
  const flow = c.get('flow');
  const timeoutMs = flow.timeout ?? deps.config.upstream.timeout;
  try {
    const result = await deps.upstream.startSyncExecution(
      { flowName: flow.flowName, input: upstreamInput(c), executionName: c.get('executionName'), qualifier: c.get('qualifier') },
      { signal, timeoutMs, trace: upstreamTrace(c) },
    );
    log.upstreamStatus = 200;
    log.upstreamMs = result.durationMs;
    log.upstreamRequestId = result.requestId;
    log.executionName = result.name;
    if (result.status !== 'Succeeded') log.upstreamCode = result.errorCode ?? result.status;
    return mapExecution(result, flow);
  } catch (error) {
    if (error instanceof CloudFlowError) {
      log.upstreamStatus = error.status;
      log.upstreamCode = error.code ?? error.kind;
      log.upstreamRequestId = error.requestId;
      log.upstreamMs = error.durationMs;
      log.detail = error.message.slice(0, 300);
      const mapped = mapUpstreamError(error, { timeoutMs, maxInputSize: flow.maxInputSize, expose: deps.config.server.exposeUpstreamErrors });
      if (mapped.code === 'ResourceThrottled') log.rateLimited = 'upstream';
      throw mapped;
    }
    throw error;
  }
}

/**
 * Renders a success outcome; shared by fresh runs, cache hits and routes so all answer the same way. A flow with
 * `response: proxy` is shaped here, on every answer, from the Output as stored: a cached proxy answer replays
 * its status and headers exactly.
 */
export function successResponse(c: Context<AppEnv>, outcome: SuccessOutcome, extraHeaders?: Record<string, string>): Response {
  const response = c.get('flow').response;
  if (response.mode === 'proxy') {
    const answer = shapedAnswer(c, outcome.body, response.allowSetCookie);
    if (answer) return proxyResponse(c, answer, outcome, extraHeaders);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-execution-name': outcome.executionName };
  // Key by key: V8 takes a slow path for a spread that is followed by more keys (docs/design.md, "Rules for the hot path").
  if (extraHeaders) for (const name in extraHeaders) headers[name] = extraHeaders[name]!;
  // A plain record all the way to the socket: c.body() would turn it into a Headers object. Nothing
  // on this route sets headers with c.header() beforehand (headers set through c.res are still merged by Hono).
  return markStamped(c, textResponse(outcome.body, { status: 200, headers: contextHeaders(c, headers) }));
}

/** The flow's proxy answer, or undefined for an Output that is a plain body; a malformed one is 502 with the reason logged. */
function shapedAnswer(c: Context<AppEnv>, output: string, allowSetCookie: boolean): ProxyAnswer | undefined {
  try {
    return proxyAnswer(output, allowSetCookie);
  } catch (error) {
    if (error instanceof GatewayError && typeof error.cause === 'string') c.get('log').detail = error.cause;
    throw error;
  }
}

function proxyResponse(c: Context<AppEnv>, answer: ProxyAnswer, outcome: SuccessOutcome, extraHeaders?: Record<string, string>): Response {
  const own: Record<string, string> = { 'x-execution-name': outcome.executionName };
  if (extraHeaders) for (const name in extraHeaders) own[name] = extraHeaders[name]!;
  const headers = new Headers(contextHeaders(c, own));
  for (const [name, value] of answer.headers) headers.append(name, value);
  if (answer.refused.length) c.get('log').detail = `proxy answer headers dropped: ${answer.refused.join(', ').slice(0, 200)}`;
  // An Idempotency-Key replay keeps the flow's own headers too, not only the body.
  c.set('proxyHeaders', [...new Set(answer.headers.map(([name]) => name))]);
  return markStamped(c, new Response(answer.body, { status: answer.status, headers }));
}

/** A proxy Output checked before it may be stored: a malformed one is never cached, and a 5xx or `no-store` answer is not. */
function checkedForCache(c: Context<AppEnv>, outcome: SuccessOutcome): SuccessOutcome {
  const response = c.get('flow').response;
  if (response.mode !== 'proxy') return outcome;
  const answer = shapedAnswer(c, outcome.body, response.allowSetCookie);
  return answer && !answer.storable ? { ...outcome, noStore: true } : outcome;
}

export function runHandler(deps: Deps) {
  const cache = deps.cache
    ? createResponseCache({ store: deps.cache, clock: deps.clock, defer: deps.defer, log: deps.log, lockWait: deps.config.cache.lockWait })
    : undefined;
  const digest = deps.sha256Hex;
  return async function run(c: Context<AppEnv>): Promise<Response> {
    const flow = c.get('flow');
    // Only flows with `cache` configured pay anything for it.
    if (cache && flow.cache) {
      const key = await cacheKey(
        {
          flow: flow.name,
          flowName: flow.flowName,
          qualifier: c.get('qualifier'),
          inputText: c.get('input').text,
          scope: cacheScope(flow.cache.scope, c.get('caller').id),
        },
        digest,
      );
      const { outcome, headers } = await cache.answer(
        {
          key,
          ttlMs: flow.cache.ttl,
          runTimeoutMs: flow.timeout ?? deps.config.upstream.timeout,
          directives: parseCacheControl(c.req.header('cache-control')),
          // A function, not a getter: V8 builds an object literal with an accessor as a dictionary-mode
          // object, and at saturation those made up most of what a cache hit promoted to the old generation.
          signal: () => c.req.raw.signal,
          report: (result) => (c.get('log').cache = result),
        },
        (signal) => runExecution(deps, c, signal).then((outcome) => checkedForCache(c, outcome)),
      );
      return successResponse(c, outcome, headers);
    }
    // No cancel signal here: aborting the HTTP call would not stop the execution inside CloudFlow,
    // and creating the request's AbortSignal costs every request on Node.
    const outcome = await runExecution(deps, c);
    return successResponse(c, outcome);
  };
}
