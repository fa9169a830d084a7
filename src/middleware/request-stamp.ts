import type { Clock } from '../lib/clock.js';
import type { AccessLogEntry } from '../log.js';
import type { TraceContext } from '../lib/trace-context.js';

/** What requestContext keeps per request for contextHeaders, addAnswerHeaders and markStamped (context variable `stamp`). */
export interface RequestStamp {
  clock: Clock;
  started: number;
  requestId: string;
  entry: AccessLogEntry;
  /** The W3C trace this request belongs to (lib/trace-context.ts). */
  trace: TraceContext;
  /** The answer that already carries X-Request-Id and Server-Timing (see contextHeaders). */
  stamped?: Response;
  /** Headers for whatever answer this request gets, from middleware that ran before it was built (addAnswerHeaders). */
  extra?: Record<string, string>;
}
