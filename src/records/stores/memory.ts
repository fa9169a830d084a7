import { LRUCache } from 'lru-cache';
import type { Clock } from '../../lib/clock.js';
import { tokenOf, type RecordStore } from '../types.js';

export interface MemoryRecordStoreOptions {
  clock: Clock;
  /** Byte budget; the least recently used records go first when it is reached. */
  maxSize: number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * Records for one process. Bounded by bytes (an evicted record forgets a delivery, which is why
 * several processes need Redis), and expired lazily on read against the injected clock: no timers.
 */
export function memoryRecordStore(options: MemoryRecordStoreOptions): RecordStore {
  const { clock, maxSize } = options;
  if (!Number.isInteger(maxSize) || maxSize <= 0) throw new TypeError('maxSize must be a positive integer');
  const entries = new LRUCache<string, Entry>({ maxSize, sizeCalculation: (entry, key) => Math.max(1, (entry.value.length + key.length) * 2) });

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const write = (key: string, value: string, ttlMs: number) => {
    entries.set(key, { value, expiresAt: clock.now() + ttlMs });
  };

  // Every method runs to completion without awaiting, so check-and-set is atomic within the process.
  return {
    async claim(key, value, leaseMs) {
      const existing = live(key);
      if (existing) return existing.value;
      write(key, value, leaseMs);
      return undefined;
    },
    async complete(key, token, value, ttlMs) {
      const existing = live(key);
      if (existing && tokenOf(existing.value) !== token) return false;
      write(key, value, ttlMs);
      return true;
    },
    async release(key, token) {
      const existing = live(key);
      if (existing && tokenOf(existing.value) === token) entries.delete(key);
    },
    async put(key, value, ttlMs) {
      write(key, value, ttlMs);
    },
    async get(key) {
      return live(key)?.value;
    },
  };
}
