import { gatewayError, storeUnavailable, type GatewayError } from '../errors.js';
import { bump, type Counters } from '../lib/counters.js';
import type { StoreResult } from '../lib/store-result.js';
import type { AccessLogEntry } from '../log.js';
import { retryAfterMs } from './gcra.js';
import { rateLimitHeaders, retryAfterSeconds } from './headers.js';
import type { Decision, Policy, RateLimitStore } from './types.js';

/** The access-log fields a decision fills in. */
export type LimitNote = Pick<AccessLogEntry, 'rateLimited' | 'rateLimitStore' | 'detail'>;

export type StoreFailure = Extract<StoreResult<Decision>, { ok: false }>;

export interface LimiterOptions {
  store: RateLimitStore;
  /** open: go on without the limit while the store fails; closed: answer 503. */
  onError: 'open' | 'closed';
  counters?: Counters | undefined;
  /** Prefix of the counters bumped: `<metric>.refused`, `.store_errors`, `.failed_open`, `.failed_closed`. */
  metric: string;
  /** The access log's `detail` on a refusal, for the operator. */
  refusalDetail?: string | undefined;
  /** Told of every store failure, before a closed limiter refuses (to log it). */
  onStoreError?: ((failure: StoreFailure, now: number) => void) | undefined;
}

/**
 * Decides all of a request's policies in one store call, and is the one place a decision becomes an answer:
 * refused is 429 `ResourceThrottled` with the RateLimit fields of every policy checked and `Retry-After` (the
 * longest wait); a failing store is 503 when closed, and `{ ok: false }` to go on without the limit when open.
 * Returns the admitting decision otherwise. Throws TypeError at construction for options that cannot work.
 */
export type Limiter = (policies: readonly Policy[], now: number, note: LimitNote) => Promise<StoreResult<Decision>>;

export function limiter(options: LimiterOptions): Limiter {
  const { store, onError, counters, metric, refusalDetail, onStoreError } = options;
  if (onError !== 'open' && onError !== 'closed') throw new TypeError('onError must be "open" or "closed"');
  if (typeof store?.check !== 'function') throw new TypeError('store must implement check(policies, now)');

  return async function decide(policies, now, note) {
    const result = await store.check(policies, now);
    if (!result.ok) {
      note.rateLimitStore = result.error;
      bump(counters, `${metric}.store_errors`);
      bump(counters, `${metric}.failed_${onError}`);
      onStoreError?.(result, now);
      if (onError === 'closed') throw storeUnavailable('rate limiter');
      return result;
    }
    if (!result.value.allowed) {
      note.rateLimited = 'local';
      if (refusalDetail !== undefined) note.detail = refusalDetail;
      bump(counters, `${metric}.refused`);
      throw throttled(policies, result.value);
    }
    return result;
  };
}

/** 429 for a refused decision: the RateLimit fields of the policies checked, and Retry-After in whole seconds. */
function throttled(policies: readonly Policy[], decision: Decision): GatewayError {
  const headers: Record<string, string> = rateLimitHeaders(policies, decision);
  headers['retry-after'] = retryAfterSeconds(retryAfterMs(decision));
  return gatewayError('ResourceThrottled', undefined, { headers });
}
