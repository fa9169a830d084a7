import { refuse, type Refusal } from './result.js';

export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

/**
 * Checks a unix-seconds timestamp header against now, in both directions: a capture replayed later is too
 * old, and a timestamp far ahead would let a capture be replayed for longer than the tolerance.
 * Returns a refusal, or undefined when the timestamp is acceptable.
 */
export function checkTimestamp(value: string | null, label: string, nowMs: number, toleranceMs: number): Refusal | undefined {
  if (value === null) return refuse(`missing ${label}`);
  if (!/^\d{1,12}$/.test(value)) return refuse(`malformed ${label}`);
  const signedAtMs = Number(value) * 1000;
  if (nowMs - signedAtMs > toleranceMs) return refuse('timestamp is older than the tolerance');
  if (signedAtMs - nowMs > toleranceMs) return refuse('timestamp is further in the future than the tolerance');
  return undefined;
}
