import { LRUCache } from 'lru-cache';
import { storeOk } from '../../lib/store-result.js';
import { evaluate, type StoredCounter } from '../gcra.js';
import type { RateLimitStore } from '../types.js';

export interface MemoryStoreOptions {
  /** Keys kept at most; the least recently used go first. Bounds memory against callers with many IPs. */
  maxKeys?: number;
}

interface Entry extends StoredCounter {
  expiresAt: number;
}

/**
 * Counters in this process only: exact for one process, per-isolate on Workers. Expiry is lazy
 * (checked against the request's `now` on read), so there are no timers; the LRU bound caps memory.
 */
export function memoryRateLimitStore(options: MemoryStoreOptions = {}): RateLimitStore {
  const { maxKeys = 100_000 } = options;
  if (!Number.isInteger(maxKeys) || maxKeys <= 0) throw new TypeError('maxKeys must be a positive integer');
  const entries = new LRUCache<string, Entry>({ max: maxKeys });

  return {
    kind: 'memory',
    async check(policies, now) {
      // Synchronous from read to write, so concurrent requests in this process cannot interleave.
      // An expired entry reads as absent and is not deleted: the write below replaces it, or the LRU
      // bound drops it. (Deleting the cache's last entry clears all maxKeys slots in lru-cache, which
      // was a quarter of the gateway's CPU with one caller whose key expired between requests.)
      const stored = policies.map((policy) => {
        const entry = entries.get(policy.key);
        return entry && entry.expiresAt > now ? entry : undefined;
      });
      const { decision, at, writes } = evaluate(policies, stored, now);
      writes?.forEach((write, i) => entries.set(policies[i]!.key, { value: write.value, at, expiresAt: at + write.ttlMs }));
      return storeOk(decision);
    },
  };
}
