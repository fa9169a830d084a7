import { LRUCache } from 'lru-cache';
import type { Clock } from '../../lib/clock.js';
import { storeOk } from '../../lib/store-result.js';
import type { CacheEntry, CacheKey, CacheStore } from '../types.js';

export interface MemoryCacheStoreOptions {
  /** Byte budget for all entries (`cache.maxSize`). */
  maxSize: number;
  /** Entries estimated larger than this are not stored (`cache.maxEntrySize`). */
  maxEntrySize: number;
  clock: Clock;
}

export interface MemoryCacheStore extends CacheStore {
  /** Estimated bytes held now; never above `maxSize`. */
  readonly calculatedSize: number;
  readonly entryCount: number;
}

/** Fixed per-entry bookkeeping (the LRU's slots, the entry object), so tiny entries still cost something. */
const ENTRY_OVERHEAD = 96;

/** Estimated memory of one entry: JS strings are UTF-16, two bytes a code unit. */
export function entrySize(storageKey: string, entry: CacheEntry): number {
  return ENTRY_OVERHEAD + 2 * (storageKey.length + entry.body.length + entry.executionName.length);
}

/**
 * One process's response cache: an LRU bounded by estimated bytes and by each entry's TTL. Expiry is
 * lazy (checked on read, no timers), and the clock is the injected one.
 */
export function createMemoryCacheStore(options: MemoryCacheStoreOptions): MemoryCacheStore {
  const { maxSize, maxEntrySize, clock } = options;
  if (!Number.isSafeInteger(maxSize) || maxSize <= 0) throw new TypeError('maxSize must be a positive number of bytes');
  if (!Number.isSafeInteger(maxEntrySize) || maxEntrySize <= 0) throw new TypeError('maxEntrySize must be a positive number of bytes');
  if (typeof clock?.now !== 'function') throw new TypeError('clock must have a now() method');

  const entries = new LRUCache<string, CacheEntry>({
    maxSize,
    maxEntrySize: Math.min(maxEntrySize, maxSize),
    sizeCalculation: (entry, key) => entrySize(key, entry),
    perf: { now: () => clock.now() },
    // 0 = read the clock on every check; any other value makes lru-cache start a timer.
    ttlResolution: 0,
    ttlAutopurge: false,
  });
  const generations = new Map<string, number>();
  const storageKey = (key: CacheKey) => `${key.flow}\n${key.hash}`;
  const fits = (key: CacheKey, entry: CacheEntry) => entrySize(storageKey(key), entry) <= Math.min(maxEntrySize, maxSize);

  return {
    kind: 'memory',
    get calculatedSize() {
      return entries.calculatedSize;
    },
    get entryCount() {
      return entries.size;
    },
    async get(key) {
      const generation = generations.get(key.flow) ?? 0;
      const k = storageKey(key);
      const entry = entries.get(k);
      if (!entry) return storeOk({ generation, entry: undefined });
      if (entry.generation !== generation || entry.expiresAt <= clock.now()) {
        entries.delete(k);
        return storeOk({ generation, entry: undefined });
      }
      return storeOk({ generation, entry });
    },
    fits,
    async set(key, entry) {
      const k = storageKey(key);
      if (!fits(key, entry)) return storeOk('too-large' as const);
      const ttl = entry.expiresAt - clock.now();
      if (ttl <= 0) return storeOk('stored' as const);
      entries.set(k, entry, { ttl });
      return storeOk('stored' as const);
    },
    async delete(key) {
      entries.delete(storageKey(key));
      return storeOk(undefined);
    },
    async purge(flow) {
      generations.set(flow, (generations.get(flow) ?? 0) + 1);
      // This store can enumerate, so the memory comes back now rather than at eviction.
      const prefix = `${flow}\n`;
      const doomed = [...entries.keys()].filter((k) => k.startsWith(prefix));
      for (const k of doomed) entries.delete(k);
      return storeOk(undefined);
    },
  };
}
