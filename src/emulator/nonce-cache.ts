import { LRUCache } from 'lru-cache';
import type { Clock } from '../lib/clock.js';

/**
 * Nonces seen inside the signature date window, so a captured request cannot be replayed. A request is accepted
 * while its date is within `windowMs` of now in either direction, so a nonce must be remembered for twice the
 * window. Memory is bounded by `max`; entries expire lazily on read (no timers). When more than `max` distinct
 * nonces arrive inside one window the oldest are forgotten first: size `max` above the expected request rate.
 */
export interface NonceCache {
  /** True when the nonce was new (and is now remembered); false when it was already used. */
  claim(accessKeyId: string, nonce: string): boolean;
}

export function createNonceCache(options: { windowMs: number; max: number; clock: Clock }): NonceCache {
  if (!(Number.isInteger(options.max) && options.max > 0)) throw new TypeError(`nonce cache max must be a whole number > 0, got ${options.max}`);
  const cache = new LRUCache<string, true>({
    max: options.max,
    ttl: 2 * options.windowMs,
    // 0: read the clock on every check instead of caching it behind a timer.
    ttlResolution: 0,
    perf: { now: () => options.clock.now() },
  });
  return {
    claim(accessKeyId, nonce) {
      const key = accessKeyId + '\n' + nonce;
      if (cache.has(key)) return false;
      cache.set(key, true);
      return true;
    },
  };
}
