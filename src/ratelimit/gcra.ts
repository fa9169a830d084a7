import type { Decision, GcraPolicy, Policy, PolicyState, WindowPolicy } from './types.js';

/**
 * The decision rules, shared by every store that keeps state in JavaScript. The Redis script
 * (gcra-script.ts) is a line-by-line transcription; a contract test runs both over the same cases.
 *
 * GCRA keeps one number per key: the theoretical arrival time (TAT) of the next request at the
 * steady rate. A request at `now` fits when TAT + interval − burst·interval ≤ now.
 *
 * Time never goes back for a key. Beside its number, a key keeps the time of the decision that wrote it,
 * and a request is decided at the latest of its own `now` and its keys' times. The `now` comes from
 * the gateway that took the request: another gateway's clock may run a little behind, and a request
 * whose `now` was taken first may reach the store after one taken later. Decided at that earlier time,
 * it saw less refill than the decision already made, and reported one request less left (two requests
 * answered r=46 and none r=47) and a longer reset. Admissions were exact either way; now the reported
 * fields are too, across processes. A refusal writes nothing, so it does not move a key's time.
 *
 * Rounding, the same in every store: a stored TAT is the exact double computed here, never rounded (the
 * Redis script writes it with `%.17g`, which reads back as the same double), so every store does the same
 * IEEE arithmetic on the same numbers. Only the answer rounds: waits and resets up to whole milliseconds
 * (`ceil`, so a client is never early), requests left down to whole requests (`floor`, with SLACK_MS).
 * Rounding the stored TAT instead (to three decimals) let the stores drift apart: JavaScript's
 * `Math.round(tat * 1000)` and C's `%.3f` disagree on ties and on products that `* 1000` rounds onto one.
 */

/**
 * Float slack in milliseconds: a TAT is a sum of fractional intervals (1000 / 3 ms), so three intervals
 * may come to 999.9999999999 ms; comparisons allow for that much and no more.
 */
export const SLACK_MS = 0.001;

/** What a store keeps per key. */
export interface StoredCounter {
  /** A GCRA TAT (epoch ms) or a window's count. */
  value: number;
  /** When the decision that wrote it was made (epoch ms): the `at` of its Evaluation. */
  at: number;
}

/** The stored value of each policy after an admitted request, or nothing when refused. */
export interface Evaluation {
  decision: Decision;
  /** The time the request was decided at (epoch ms): its `now`, or a later time one of its keys was written at. */
  at: number;
  /** New values to store per policy (TAT, or the window count), present only when admitted; each is stored with `at`. */
  writes?: { value: number; ttlMs: number }[];
}

/**
 * Decides one request: every policy admits it and each is spent, or none is. `stored[i]` is what the store
 * holds for `policies[i].key` (undefined when absent or expired); `requestNow` is the gateway's clock (epoch ms).
 */
export function evaluate(policies: readonly Policy[], stored: readonly (StoredCounter | undefined)[], requestNow: number): Evaluation {
  let now = requestNow;
  for (const counter of stored) if (counter !== undefined && counter.at > now) now = counter.at;
  const outcomes = policies.map((policy, i) => (policy.kind === 'gcra' ? gcra(policy, stored[i]?.value, now) : fixedWindow(policy, stored[i]?.value, now)));
  const allowed = outcomes.every((o) => o.fits);
  const states: PolicyState[] = outcomes.map((o) => (allowed ? o.admitted : o.unchanged));
  const decision: Decision = { allowed, states };
  return allowed ? { decision, at: now, writes: outcomes.map((o) => o.write) } : { decision, at: now };
}

interface Outcome {
  fits: boolean;
  /** The state reported when every policy admits (this one consumed). */
  admitted: PolicyState;
  /** The state reported when some policy refuses (nothing consumed). */
  unchanged: PolicyState;
  write: { value: number; ttlMs: number };
}

function gcra(policy: GcraPolicy, storedTat: number | undefined, now: number): Outcome {
  const { name, intervalMs, burst } = policy;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + intervalMs;
  const allowAt = newTat - burst * intervalMs;
  const fits = allowAt <= now + SLACK_MS;
  const available = (at: number) => clamp(Math.floor((now - at + burst * intervalMs) / intervalMs + SLACK_MS / intervalMs), 0, burst);
  const wait = fits ? 0 : Math.ceil(allowAt - now);
  const unchanged: PolicyState = { name, allowed: fits, remaining: fits ? available(tat) : 0, resetMs: Math.ceil(tat - now), retryAfterMs: wait };
  if (policy.peek) {
    // Asks whether one more would fit and spends nothing: the "write" puts back the TAT it read.
    return { fits, admitted: unchanged, unchanged, write: { value: tat, ttlMs: Math.max(1, Math.ceil(tat - now)) } };
  }
  const admitted: PolicyState = { name, allowed: true, remaining: available(newTat), resetMs: Math.ceil(newTat - now), retryAfterMs: 0 };
  return { fits, admitted, unchanged, write: { value: newTat, ttlMs: Math.max(1, Math.ceil(newTat - now)) } };
}

function fixedWindow(policy: WindowPolicy, storedCount: number | undefined, now: number): Outcome {
  const { name, limit, windowEnd } = policy;
  const count = storedCount ?? 0;
  const fits = count + 1 <= limit;
  const resetMs = Math.max(1, Math.ceil(windowEnd - now));
  const unchanged: PolicyState = { name, allowed: fits, remaining: clamp(limit - count, 0, limit), resetMs, retryAfterMs: fits ? 0 : resetMs };
  const admitted: PolicyState = { name, allowed: true, remaining: clamp(limit - count - 1, 0, limit), resetMs, retryAfterMs: 0 };
  return { fits, admitted, unchanged, write: { value: count + 1, ttlMs: resetMs } };
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/** How long the request must wait: the longest wait among the refusing policies. */
export function retryAfterMs(decision: Decision): number {
  return decision.states.reduce((longest, s) => Math.max(longest, s.retryAfterMs), 0);
}
