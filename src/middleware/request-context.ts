import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../deps.js';
import type { Random } from '../lib/random.js';

/** Fields of the one access-log line per request. Never a key, token, secret or signature. */
export interface AccessLogEntry {
  time?: string;
  requestId: string;
  method: string;
  path: string;
  flow?: string;
  caller?: string;
  status?: number;
  upstreamStatus?: number;
  upstreamCode?: string;
  upstreamRequestId?: string;
  executionName?: string;
  cache?: string;
  /** Who refused with 429: this gateway's limiter, or CloudFlow's own ResourceThrottled. */
  rateLimited?: 'local' | 'upstream';
  /** The rate-limit store failed for this request (it was then served or refused per storeOptions.onError). */
  rateLimitStore?: 'timeout' | 'unavailable';
  /** Delivery de-duplication / Idempotency-Key outcome: new, replayed, in-flight, mismatch, bypass. */
  idempotency?: string;
  error?: string;
  detail?: string;
  upstreamMs?: number;
  durationMs?: number;
}

export interface RequestContextOptions {
  clock: Clock;
  random: Random;
  log: Logger;
  accessLog?: boolean;
}

/** A caller's X-Request-Id is kept only when it is short and plain, so it is safe in logs and execution names. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id, the access-log line and Server-Timing. Runs first, so every answer (errors included)
 * carries X-Request-Id and is logged exactly once.
 */
export function requestContext(options: RequestContextOptions): MiddlewareHandler<AppEnv> {
  const { clock, random, log, accessLog = true } = options;
  return async function requestContext(c, next) {
    const started = clock.now();
    const offered = c.req.header('x-request-id');
    const requestId = offered && SAFE_REQUEST_ID.test(offered) ? offered : random.uuid();
    const entry: AccessLogEntry = { requestId, method: c.req.method, path: c.req.path };
    c.set('requestId', requestId);
    c.set('log', entry);
    await next();
    const durationMs = clock.now() - started;
    c.res.headers.set('x-request-id', requestId);
    const timing = entry.upstreamMs !== undefined ? `upstream;dur=${entry.upstreamMs}, total;dur=${durationMs}` : `total;dur=${durationMs}`;
    c.res.headers.append('server-timing', timing);
    if (accessLog) {
      entry.status = c.res.status;
      entry.durationMs = durationMs;
      entry.time = new Date(started).toISOString();
      log(entry as unknown as Record<string, unknown>);
    }
  };
}
