import type { StoreResult } from '../lib/store-result.js';

/**
 * One limit checked for one request. GCRA is rate + burst (a leaky bucket without a timer);
 * a window is a fixed-window quota such as 10000 per UTC day.
 */
export type Policy = GcraPolicy | WindowPolicy;

export interface GcraPolicy {
  kind: 'gcra';
  /** Shown in the RateLimit fields: "caller", "flow", … */
  name: string;
  /** The full store key, prefix included. */
  key: string;
  /** Milliseconds between two requests at the steady rate (period / count). */
  intervalMs: number;
  /** Requests that may arrive at once on a full bucket. */
  burst: number;
  /**
   * Only ask whether one more request would fit, spending nothing (the failed-authentication limit
   * looks before it judges a credential, and charges only a failure).
   */
  peek?: boolean;
}

export interface WindowPolicy {
  kind: 'window';
  name: string;
  /** The full store key of the current window (it names the window, so a new window starts at zero). */
  key: string;
  limit: number;
  windowMs: number;
  /** When the current window ends, in epoch milliseconds. */
  windowEnd: number;
}

/** What one policy said, in whole milliseconds and whole requests. */
export interface PolicyState {
  name: string;
  /** This policy alone would admit the request. */
  allowed: boolean;
  /** Requests left now: after this one when the whole request was admitted, otherwise without it. */
  remaining: number;
  /** Milliseconds until the policy's full quota is available again. */
  resetMs: number;
  /** Milliseconds until this policy would admit the request; 0 when it does. */
  retryAfterMs: number;
}

/** All policies pass and every one is consumed, or none is consumed. */
export interface Decision {
  allowed: boolean;
  /** In the order the policies were given. */
  states: PolicyState[];
}

/**
 * Where counters live: memory in one process, Redis across processes, a Durable Object on Workers.
 * `check` decides all policies of one request in one round trip and atomically. It never throws and
 * answers within the store's own deadline: failures are values the limiter decides about.
 */
export interface RateLimitStore {
  readonly kind: string;
  check(policies: readonly Policy[], now: number): Promise<StoreResult<Decision>>;
  close?(): Promise<void>;
}
