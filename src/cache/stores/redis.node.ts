import { defineScript, type RedisClient } from '../../platform/node/redis.js';
import type { CacheEntry, CacheKey, CacheStore } from '../types.js';
import type { Clock } from '../../lib/clock.js';
import { parseJsonObject } from '../../lib/json.js';
import type { Random } from '../../lib/random.js';
import { guardStoreCall, storeOk } from '../../lib/store-result.js';

export interface RedisCacheStoreOptions {
  /** A connected ioredis client (one Redis or a Cluster); the runtime owns it and may share it with other stores. */
  redis: RedisClient;
  /** Waits for the first connection (the shared client queues nothing while disconnected). */
  ready?: () => Promise<void>;
  /** `storeOptions.keyPrefix`, e.g. `flowgate:`. */
  keyPrefix: string;
  /** `storeOptions.timeout`: a call slower than this counts as failed. */
  timeoutMs: number;
  /** `cache.maxEntrySize`, in bytes of the stored value. */
  maxEntrySize: number;
  clock: Clock;
  random: Random;
}

/** Deletes the lock only if it still holds our token, so a late release never frees someone else's claim. */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The stored form: short field names, one JSON string per entry. */
interface StoredEntry {
  b: string;
  e: string;
  s: number;
  x: number;
  g: number;
}

/**
 * The shared response cache: entries are `SET … PX` strings, so Redis expires them; each flow has a
 * generation counter beside its entries (`INCR` on purge), read with the entry in one `MGET`. Keys, where
 * `{flow}` is a literal Redis hash tag around the exposed flow name:
 *   {prefix}cache:{<flow>}:<sha256>        the entry
 *   {prefix}cache-gen:{<flow>}             the purge generation
 *   {prefix}cache-lock:{<flow>}:<sha256>   the short cross-process claim
 * The tag puts a flow's generation, entries and locks in one Redis Cluster slot, so the `MGET` of
 * generation and entry is one atomic read on a cluster too (no CROSSSLOT). The price: one flow's entries
 * live on one shard; different flows spread over the cluster. Flow names cannot hold braces (config schema).
 */
export function createRedisCacheStore(options: RedisCacheStoreOptions): CacheStore {
  const { redis, keyPrefix, timeoutMs, maxEntrySize, clock, random, ready } = options;
  const guard = <T>(call: () => Promise<T>) =>
    guardStoreCall(async () => {
      if (ready) await ready();
      return call();
    }, timeoutMs);
  if (!redis || typeof redis.mget !== 'function') throw new TypeError('redis must be an ioredis client');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number of milliseconds');
  if (!Number.isSafeInteger(maxEntrySize) || maxEntrySize <= 0) throw new TypeError('maxEntrySize must be a positive number of bytes');

  const releaseLock = defineScript(redis, 'flowgateReleaseLock', RELEASE_SCRIPT, 1);
  const entryKey = (key: CacheKey) => `${keyPrefix}cache:{${key.flow}}:${key.hash}`;
  const generationKey = (flow: string) => `${keyPrefix}cache-gen:{${flow}}`;
  const lockKey = (key: CacheKey) => `${keyPrefix}cache-lock:{${key.flow}}:${key.hash}`;
  const serialize = (entry: CacheEntry) =>
    JSON.stringify({ b: entry.body, e: entry.executionName, s: entry.storedAt, x: entry.expiresAt, g: entry.generation } satisfies StoredEntry);
  const fits = (_key: CacheKey, entry: CacheEntry) => Buffer.byteLength(serialize(entry)) <= maxEntrySize;

  return {
    kind: 'redis',
    fits,
    async get(key) {
      const result = await guard(() => redis.mget(generationKey(key.flow), entryKey(key)));
      if (!result.ok) return result;
      const [rawGeneration, rawEntry] = result.value;
      const generation = rawGeneration ? Number(rawGeneration) : 0;
      const entry = rawEntry ? parseEntry(rawEntry) : undefined;
      const fresh = entry && entry.generation === generation && entry.expiresAt > clock.now() ? entry : undefined;
      return storeOk({ generation, entry: fresh });
    },
    async set(key, entry) {
      const value = serialize(entry);
      if (Buffer.byteLength(value) > maxEntrySize) return storeOk('too-large' as const);
      const ttl = Math.ceil(entry.expiresAt - clock.now());
      if (ttl <= 0) return storeOk('stored' as const);
      const result = await guard(() => redis.set(entryKey(key), value, 'PX', ttl));
      return result.ok ? storeOk('stored' as const) : result;
    },
    async delete(key) {
      const result = await guard(() => redis.del(entryKey(key)));
      return result.ok ? storeOk(undefined) : result;
    },
    async purge(flow) {
      const result = await guard(() => redis.incr(generationKey(flow)));
      return result.ok ? storeOk(undefined) : result;
    },
    lock: {
      async acquire(key, ttlMs) {
        const token = random.uuid();
        const result = await guard(() => redis.set(lockKey(key), token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
        if (!result.ok) return result;
        return storeOk(result.value === 'OK' ? token : undefined);
      },
      async release(key, token) {
        const result = await guard(() => releaseLock(lockKey(key), token));
        return result.ok ? storeOk(undefined) : result;
      },
    },
  };
}

/** A value that is not ours (or from an older layout) is a miss, never an error. */
function parseEntry(raw: string): CacheEntry | undefined {
  const v = parseJsonObject(raw) as Partial<StoredEntry> | undefined;
  if (!v || typeof v.b !== 'string' || typeof v.e !== 'string' || typeof v.s !== 'number' || typeof v.x !== 'number' || typeof v.g !== 'number')
    return undefined;
  return { body: v.b, executionName: v.e, storedAt: v.s, expiresAt: v.x, generation: v.g };
}
