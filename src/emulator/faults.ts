/**
 * Fault knobs for tests and benchmarks, applied to every authenticated call before its action runs:
 *  - `latencyMs`: added delay (through the injected sleep);
 *  - `throttle`: more than N calls per second → 429 `ResourceThrottled` with `Retry-After` (a token bucket of N
 *    tokens refilled at N per second, read lazily from the injected clock);
 *  - `failureRate`: that share of calls (0–1, drawn from the injected random) fails with 500
 *    `InternalServerError`, a transient system error: the action does not run, so a retry is safe.
 */
import type { Clock } from '../lib/clock.js';
import { emulatorError } from './errors.js';

export interface FaultOptions {
  latencyMs?: number | undefined;
  throttle?: number | undefined;
  failureRate?: number | undefined;
}

export interface Faults {
  /** Throws the injected error, if any; resolves after the added latency otherwise. */
  apply(): Promise<void>;
}

export function createFaults(options: FaultOptions, deps: { clock: Clock; random: () => number; sleep: (ms: number) => Promise<void> }): Faults {
  const { latencyMs = 0, throttle, failureRate = 0 } = options;
  if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) throw new TypeError(`faults.latencyMs must be a number ≥ 0, got ${latencyMs}`);
  if (throttle !== undefined && !(Number.isFinite(throttle) && throttle > 0))
    throw new TypeError(`faults.throttle must be a number of requests per second > 0, got ${throttle}`);
  if (!(Number.isFinite(failureRate) && failureRate >= 0 && failureRate <= 1))
    throw new TypeError(`faults.failureRate must be between 0 and 1, got ${failureRate}`);

  let tokens = throttle ?? 0;
  let refilledAt = deps.clock.now();

  const take = (): number | undefined => {
    if (throttle === undefined) return undefined;
    const now = deps.clock.now();
    tokens = Math.min(throttle, tokens + ((now - refilledAt) / 1000) * throttle);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return undefined;
    }
    // Seconds until one whole token is back, rounded up (Retry-After takes whole seconds).
    return Math.max(1, Math.ceil((1 - tokens) / throttle));
  };

  return {
    async apply() {
      const retryAfter = take();
      if (retryAfter !== undefined) throw emulatorError('ResourceThrottled', undefined, { headers: { 'retry-after': String(retryAfter) } });
      if (failureRate > 0 && deps.random() < failureRate) throw emulatorError('InternalServerError');
      if (latencyMs > 0) await deps.sleep(latencyMs);
    },
  };
}
