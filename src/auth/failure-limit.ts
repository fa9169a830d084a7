import type { FailureLimitSpec } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Counters } from '../lib/counters.js';
import { limiter, type LimitNote } from '../ratelimit/limiter.js';
import type { GcraPolicy, RateLimitStore } from '../ratelimit/types.js';

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
export type AuthFailureNote = LimitNote;

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
  // Counted apart from the request limiter's, so each count means one decision of one kind.
  const decide = limiter({ store, onError, counters, metric: 'auth_failures', refusalDetail: 'too many failed authentications from this address' });
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

  // A failing store that is open lets the credential be judged without the limit.
  const check = async (address: string, peek: boolean, note: AuthFailureNote): Promise<void> => {
    await decide([policy(address, peek)], clock.now(), note);
  };

  return {
    admit: (address, note) => check(address, true, note),
    charge: (address, note) => check(address, false, note),
  };
}
