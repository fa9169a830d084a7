import type { Context, MiddlewareHandler, Next } from 'hono';
import type { Logger } from '../log.js';
import type { AppEnv } from '../env.js';
import { addAnswerHeaders } from './request-context.js';
import type { Clock } from '../lib/clock.js';
import { bump, type Counters } from '../lib/counters.js';
import { rateLimitHeaders } from '../ratelimit/headers.js';
import { limiter } from '../ratelimit/limiter.js';
import type { PolicyResolver } from '../ratelimit/policies.js';
import type { Policy, RateLimitStore } from '../ratelimit/types.js';

export interface RateLimitOptions {
  store: RateLimitStore;
  policies: PolicyResolver;
  clock: Clock;
  /** open: serve without limits while the store fails; closed: answer 503. */
  onError: 'open' | 'closed';
  log: Logger;
  counters?: Counters;
  /** At most one "store failing" log line per this many milliseconds (the access log has every one). */
  errorLogInterval?: number;
}

/**
 * Holds the caller to every policy that applies (caller-wide, per flow, quotas) in one store round
 * trip. Runs before the body is read, so a throttled caller costs a header parse and one lookup.
 * Every limited answer, refusals and errors included, carries RateLimit-Policy and RateLimit.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const { store, policies, clock, onError, log, counters, errorLogInterval = 10_000 } = options;
  let lastErrorLog = -Infinity;
  let suppressed = 0;
  const decide = limiter({
    store,
    onError,
    counters,
    metric: 'ratelimit',
    onStoreError(failure, now) {
      if (now - lastErrorLog >= errorLogInterval) {
        log({ level: 'warn', msg: `rate-limit store ${store.kind} failed; failing ${onError}`, error: failure.error, detail: failure.detail, suppressed });
        lastErrorLog = now;
        suppressed = 0;
      } else {
        suppressed++;
      }
    },
  });

  // The common no-policy case stays synchronous: an async middleware keeps a suspended frame and a
  // promise alive for the rest of the request, and at saturation those outlived young-generation GCs.
  return function rateLimit(c, next) {
    const now = clock.now();
    const applicable = policies(c.get('caller'), c.get('flow'), now);
    if (applicable.length === 0) return next();
    return limit(c, next, applicable, now);
  };

  async function limit(c: Context<AppEnv>, next: Next, applicable: Policy[], now: number): Promise<void> {
    // Refusals (429) and a store failing closed (503) are thrown by the limiter.
    const result = await decide(applicable, now, c.get('log'));
    if (!result.ok) return next();
    bump(counters, 'ratelimit.allowed');
    const headers = rateLimitHeaders(applicable, result.value);
    // Added to the answer as it is built; a later check on the same request (a webhook sender's,
    // after its signature) adds its own, and the client sees every policy that applied.
    if (addAnswerHeaders(c, headers)) return next();
    await next();
    const later = { policy: c.res.headers.get('ratelimit-policy'), current: c.res.headers.get('ratelimit') };
    c.res.headers.set('ratelimit-policy', later.policy ? `${headers['ratelimit-policy']}, ${later.policy}` : headers['ratelimit-policy']);
    c.res.headers.set('ratelimit', later.current ? `${headers.ratelimit}, ${later.current}` : headers.ratelimit);
  }
}
