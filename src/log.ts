/** The log line shapes every part of the gateway writes; where the lines go is the runtime's choice. */

export type LogLine = Record<string, unknown>;
/** One JSON object per call; must never be given secrets. */
export type Logger = (line: LogLine) => void;

/** Fields of the one access-log line per request. Never a key, token, secret or signature. */
export interface AccessLogEntry {
  time?: string;
  requestId: string;
  /** The W3C trace id: the caller's `traceparent`'s, or one the gateway started. */
  traceId?: string;
  method: string;
  path: string;
  flow?: string;
  /** The configured route a request came in by (`GET /v1/orders/:id`). */
  route?: string;
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
