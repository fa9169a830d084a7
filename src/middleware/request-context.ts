import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import type { Clock } from '../lib/clock.js';
import type { AccessLogEntry, Logger } from '../log.js';
import type { Random } from '../lib/random.js';
import { isoTime } from '../lib/iso-time.js';
import type { RequestStamp } from './request-stamp.js';
import type { Metrics } from '../metrics/types.js';
import { outgoingTraceparent, traceFor, type TraceContext } from '../lib/trace-context.js';

export interface RequestContextOptions {
  clock: Clock;
  random: Random;
  log: Logger;
  accessLog?: boolean;
  /** Told when each request starts and is answered (requests, in flight, cache and upstream time). */
  metrics?: Pick<Metrics, 'started' | 'finished'> | undefined;
}

/**
 * X-Request-Id and Server-Timing added to a handler's plain header record, for answers built with
 * `new Response(body, {headers})`. Adding them after the handler forces a `Headers` object (Hono
 * builds one, @hono/node-server copies it back into a record), which cost about a twentieth of a
 * cache hit; an answer registered with `markStamped` is left alone.
 */
export function contextHeaders(c: Context<AppEnv>, headers: Record<string, string>): Record<string, string> {
  const stamp = c.get('stamp');
  if (!stamp) return headers;
  if (stamp.extra) mergeInto(headers, stamp.extra);
  headers['x-request-id'] = stamp.requestId;
  headers['server-timing'] = serverTiming(stamp.entry, stamp.trace, stamp.clock.now() - stamp.started);
  return headers;
}

/**
 * Headers a middleware wants on this request's answer, whatever builds it (RateLimit fields). Given
 * before the answer exists, they go into the handler's plain record (contextHeaders) or, for answers
 * built otherwise, onto the finished answer; changing a finished answer's headers afterwards would
 * turn @hono/node-server's plain response into a full Web Response, which cost a fifth of a request.
 * A name given twice, or also set by the answer, is joined with ", " in the order given.
 * Returns false when requestContext is not in front (the caller then sets the headers itself).
 */
export function addAnswerHeaders(c: Context<AppEnv>, headers: Record<string, string>): boolean {
  const stamp = c.get('stamp');
  if (!stamp) return false;
  const extra = (stamp.extra ??= {});
  for (const name in headers) extra[name] = extra[name] ? `${extra[name]}, ${headers[name]}` : headers[name]!;
  return true;
}

function mergeInto(headers: Record<string, string>, extra: Record<string, string>): void {
  for (const name in extra) headers[name] = headers[name] ? `${extra[name]}, ${headers[name]}` : extra[name]!;
}

/** Registers the answer built with `contextHeaders`, so requestContext does not add its headers twice. */
export function markStamped(c: Context<AppEnv>, response: Response): Response {
  const stamp = c.get('stamp');
  if (stamp) stamp.stamped = response;
  return response;
}

/**
 * Durations, and the trace as a `traceparent` entry (the convention browser tracing agents read, since a page
 * cannot see response headers of its own navigation otherwise).
 */
function serverTiming(entry: AccessLogEntry, trace: TraceContext, durationMs: number): string {
  const timing = entry.upstreamMs !== undefined ? `upstream;dur=${entry.upstreamMs}, total;dur=${durationMs}` : `total;dur=${durationMs}`;
  return `${timing}, traceparent;desc="${outgoingTraceparent(trace)}"`;
}

/** A caller's X-Request-Id is kept only when it is short and plain, so it is safe in logs and execution names. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id, the access-log line and Server-Timing. Runs first, so every answer (errors included)
 * carries X-Request-Id and is logged exactly once.
 */
export function requestContext(options: RequestContextOptions): MiddlewareHandler<AppEnv> {
  const { clock, random, log, accessLog = true, metrics } = options;
  return async function requestContext(c, next) {
    const started = clock.now();
    metrics?.started();
    const offered = c.req.header('x-request-id');
    const requestId = offered && SAFE_REQUEST_ID.test(offered) ? offered : random.uuid();
    const trace = traceFor(c.req.header('traceparent'), c.req.header('tracestate'), random);
    const entry: AccessLogEntry = { requestId, traceId: trace.traceId, method: c.req.method, path: c.req.path };
    c.set('requestId', requestId);
    c.set('log', entry);
    const stamp: RequestStamp = { clock, started, requestId, entry, trace };
    c.set('stamp', stamp);
    await next();
    const durationMs = clock.now() - started;
    if (stamp.stamped === undefined) {
      if (stamp.extra) {
        for (const name in stamp.extra) {
          const own = c.res.headers.get(name);
          c.res.headers.set(name, own ? `${stamp.extra[name]}, ${own}` : stamp.extra[name]!);
        }
      }
      c.res.headers.set('x-request-id', requestId);
      c.res.headers.append('server-timing', serverTiming(entry, trace, durationMs));
    } else if (c.res !== stamp.stamped) {
      // Something replaced the stamped answer; Hono carried its headers over, so these are set, not added.
      c.res.headers.set('x-request-id', requestId);
      c.res.headers.set('server-timing', serverTiming(entry, trace, durationMs));
    }
    entry.status = c.res.status;
    metrics?.finished(entry);
    if (accessLog) {
      entry.durationMs = durationMs;
      entry.time = isoTime(started);
      log(entry as unknown as Record<string, unknown>);
    }
  };
}
