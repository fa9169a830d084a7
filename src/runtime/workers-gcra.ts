/**
 * GCRA arithmetic for the Durable Object counters. Pure (no storage, no clock), so it is tested on
 * Node and the object stays a thin storage shell; when the core rate limiter lands it can share this.
 */
/** One GCRA policy: `count` requests per `periodMs`, of which `burst` may arrive at once. */
export interface GcraPolicy {
  /** Names the counter inside the caller's object, e.g. `flow:hello` or `caller`. */
  key: string;
  count: number;
  periodMs: number;
  burst: number;
  /** Units this request spends; 1 unless a route weighs more. */
  cost?: number;
}

export interface GcraDecision {
  allowed: boolean;
  /** The burst: what `RateLimit: limit=` reports. */
  limit: number;
  remaining: number;
  /** Until the counter is full again (allowed) or unchanged (refused). */
  resetMs: number;
  /** When refused, until the request would be allowed; 0 otherwise. */
  retryAfterMs: number;
}

/**
 * GCRA on a stored theoretical arrival time (TAT). Pure, so the Durable Object below stays a thin
 * storage shell around it.
 */
export function gcra(storedTat: number | undefined, now: number, policy: GcraPolicy): { decision: GcraDecision; tat: number | undefined } {
  const interval = policy.periodMs / policy.count;
  const cost = policy.cost ?? 1;
  const tat = Math.max(storedTat ?? now, now);
  const next = tat + interval * cost;
  const allowAt = next - interval * policy.burst;
  if (now < allowAt) {
    const remaining = Math.max(0, units((now - (tat - interval * policy.burst)) / interval));
    return { decision: { allowed: false, limit: policy.burst, remaining, resetMs: tat - now, retryAfterMs: allowAt - now }, tat: storedTat };
  }
  const remaining = units((now - allowAt) / interval);
  return { decision: { allowed: true, limit: policy.burst, remaining, resetMs: next - now, retryAfterMs: 0 }, tat: next };
}

/** Whole units; the epsilon absorbs float error from fractional intervals (1000 ms / 3). */
function units(fraction: number): number {
  return Math.floor(fraction + 1e-9);
}

export function checkPolicy(policy: GcraPolicy): void {
  const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;
  if (typeof policy?.key !== 'string' || policy.key === '') throw new TypeError('policy.key must be a non-empty string');
  if (!positive(policy.count) || !positive(policy.periodMs)) throw new TypeError('policy.count and policy.periodMs must be positive numbers');
  if (!positive(policy.burst) || !Number.isInteger(policy.burst)) throw new TypeError('policy.burst must be a positive integer');
  if (policy.cost !== undefined && (!positive(policy.cost) || !Number.isInteger(policy.cost))) throw new TypeError('policy.cost must be a positive integer');
}
