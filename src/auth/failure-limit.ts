import type { FailureLimitSpec } from '../config/schema.js';
import { gatewayError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import type { AccessLogEntry } from '../log.js';
import { bump, type Counters } from '../lib/counters.js';
import { retryAfterMs } from '../ratelimit/gcra.js';
import { rateLimitHeaders, retryAfterSeconds } from '../ratelimit/headers.js';
import type { Decision, GcraPolicy, RateLimitStore } from '../ratelimit/types.js';

export interface AuthFailureLimitOptions {
  limit: FailureLimitSpec;
  store: RateLimitStore;
  clock: Clock;
  keyPrefix: string;
  /** open: judge credentials without the limit while the store fails; closed: answer 503. */
  onError: 'open' | 'closed';
  counters?: Counters | undefined;
}

/** The access-log fields a decision fills in; the presented credential is never among them. */
export type AuthFailureNote = Pick<AccessLogEntry, 'rateLimited' | 'rateLimitStore' | 'detail'>;

export interface AuthFailureLimiter {
  /** Before a credential is judged: throws 429 when the address has used up its failures. Spends nothing. */
  admit(address: string, note: AuthFailureNote): Promise<void>;
  /** After a credential failed: spends one failure; throws 429 when there was none left. */
  charge(address: string, note: AuthFailureNote): Promise<void>;
}

const POLICY_NAME = 'auth-failures';

/**
 * `auth.failureLimit`: holds each client address to a rate of failed authentications, in the same
 * store as the request limits, so the count holds across processes. Looking comes before judging:
 * once the address is over, a right key and a wrong one both get 429, so guessing learns nothing.
 * Only failures are spent; a caller with a good credential never uses this budget up.
 */
export function authFailureLimiter(options: AuthFailureLimitOptions): AuthFailureLimiter {
  const { limit, store, clock, keyPrefix, onError, counters } = options;
  if (onError !== 'open' && onError !== 'closed') throw new TypeError('onError must be "open" or "closed"');
  if (typeof store?.check !== 'function') throw new TypeError('store must implement check(policies, now)');
  if (!(limit.rate.count > 0) || !(limit.rate.periodMs > 0) || !(limit.burst >= 1)) throw new TypeError('limit needs a positive rate and burst');
  const intervalMs = limit.rate.periodMs / limit.rate.count;

  const policy = (address: string, peek: boolean): GcraPolicy => ({
    kind: 'gcra',
    name: POLICY_NAME,
    // Its own hash tag: one address's failures live together, apart from any caller's counters.
    key: `${keyPrefix}rl:{authfail:${address}}:failures`,
    intervalMs,
    burst: limit.burst,
    ...(peek ? { peek: true } : {}),
  });

  async function decide(address: string, peek: boolean, note: AuthFailureNote): Promise<void> {
    const applied = policy(address, peek);
    const result = await store.check([applied], clock.now());
    if (!result.ok) {
      note.rateLimitStore = result.error;
      // Counted apart from the request limiter's, so each count means one decision of one kind.
      bump(counters, 'auth_failures.store_errors');
      bump(counters, onError === 'open' ? 'auth_failures.failed_open' : 'auth_failures.failed_closed');
      if (onError === 'closed')
        throw gatewayError('ServiceUnavailable', 'The rate limiter is unavailable. Please try again later.', { headers: { 'retry-after': '1' } });
      return;
    }
    if (!result.value.allowed) refuse(applied, result.value, note);
  }

  function refuse(applied: GcraPolicy, decision: Decision, note: AuthFailureNote): never {
    note.rateLimited = 'local';
    note.detail = 'too many failed authentications from this address';
    bump(counters, 'auth_failures.refused');
    const headers = rateLimitHeaders([applied], decision);
    throw gatewayError('ResourceThrottled', undefined, { headers: { ...headers, 'retry-after': retryAfterSeconds(retryAfterMs(decision)) } });
  }

  return {
    admit: (address, note) => decide(address, true, note),
    charge: (address, note) => decide(address, false, note),
  };
}
