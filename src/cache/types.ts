import type { StoreResult } from '../lib/store-result.js';

/** Where an entry lives: the exposed flow (the unit of purge) and the SHA-256 of everything else. */
export interface CacheKey {
  flow: string;
  /** 64 lowercase hex characters (see key.ts). */
  hash: string;
}

/** A stored success: the execution Output text as the miss answered it, and where it came from. */
export interface CacheEntry {
  body: string;
  executionName: string;
  /** Epoch ms, by the injected clock of the process that stored it. */
  storedAt: number;
  expiresAt: number;
  /** The flow's purge generation when the run started; an entry from an older one is never served. */
  generation: number;
}

export interface CacheLookup {
  /** The flow's current purge generation; a later `set` passes it back. */
  generation: number;
  /** Only a fresh entry of the current generation. */
  entry: CacheEntry | undefined;
}

/**
 * The response cache behind one small async interface: memory (one process), Redis (shared), and the
 * Workers Cache API. Failures are StoreResult values; the caller serves without cache.
 *
 * Purge works without key enumeration: each flow has a generation number stored alongside its
 * entries. `purge` bumps it; entries written under an older generation are never served again and
 * age out by their TTL (a store that can enumerate may also drop them at once).
 */
export interface CacheStore {
  readonly kind: string;
  get(key: CacheKey): Promise<StoreResult<CacheLookup>>;
  /** Whether `set` would accept the entry's size; checked before answering, so `stored` is honest. */
  fits(key: CacheKey, entry: CacheEntry): boolean;
  /** `too-large`: over the entry-size cap, not stored. Expiry comes from `entry.expiresAt`. */
  set(key: CacheKey, entry: CacheEntry): Promise<StoreResult<'stored' | 'too-large'>>;
  delete(key: CacheKey): Promise<StoreResult<void>>;
  purge(flow: string): Promise<StoreResult<void>>;
  /** Cross-process single flight; absent on stores that only one process sees. */
  readonly lock?: CacheLock;
}

/** A short exclusive claim on a key: the holder runs the execution, the others wait for its entry. */
export interface CacheLock {
  /** A token when acquired, `undefined` when another process holds the claim. */
  acquire(key: CacheKey, ttlMs: number): Promise<StoreResult<string | undefined>>;
  /** Releases only a claim still held with `token`. */
  release(key: CacheKey, token: string): Promise<StoreResult<void>>;
}
