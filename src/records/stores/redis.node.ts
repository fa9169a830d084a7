import { Redis } from 'ioredis';
import { defineScript, type RedisClient } from '../../platform/node/redis.js';
import type { RecordStore } from '../types.js';

/** Replaces the caller's own claim (or an expired one) with the final record; refuses when another holds the key. */
const COMPLETE = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if not ok or type(record) ~= 'table' or record.token ~= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const RELEASE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if ok and type(record) == 'table' and record.token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisRecordStoreOptions {
  /** A `redis://` URL (a connection of its own is made) or an ioredis client owned by the caller. */
  redis: string | RedisClient;
  keyPrefix: string;
  /** Waits for the first connection of a shared client that queues nothing while disconnected. */
  ready?: () => Promise<void>;
}

export interface RedisRecordStore extends RecordStore {
  ping(): Promise<boolean>;
  /** Closes the connection when this store opened it. */
  close(): Promise<void>;
}

/**
 * Records shared by every gateway process. `claim` is one `SET NX PX GET` (Redis ≥ 7), so exactly one
 * of any number of concurrent claimants wins; complete and release compare the claim token in a script.
 * Every call touches one key, so each is slot-safe on Redis Cluster as it stands: a delivery, an
 * Idempotency-Key or an `ack` execution is one record under `{prefix}rec:<key>`.
 */
export function redisRecordStore(options: RedisRecordStoreOptions): RedisRecordStore {
  const owned = typeof options.redis === 'string';
  // Fail fast while Redis is away instead of queueing: the caller treats a failed call as a store failure.
  const redis =
    typeof options.redis === 'string' ? new Redis(options.redis, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true }) : options.redis;
  // Connection errors surface as failed calls (store failures the caller decides about), not as crashes.
  if (owned) redis.on('error', () => {});
  const prefix = `${options.keyPrefix}rec:`;
  const completeScript = defineScript(redis, 'flowgateCompleteRecord', COMPLETE, 1);
  const releaseScript = defineScript(redis, 'flowgateReleaseRecord', RELEASE, 1);
  const ready = options.ready ?? (async () => {});
  return {
    async claim(key, value, leaseMs) {
      await ready();
      const previous = await redis.call('SET', prefix + key, value, 'NX', 'PX', String(Math.max(1, Math.ceil(leaseMs))), 'GET');
      return previous === null ? undefined : String(previous);
    },
    async complete(key, token, value, ttlMs) {
      await ready();
      const done = await completeScript(prefix + key, token, value, String(Math.max(1, Math.ceil(ttlMs))));
      return Number(done) === 1;
    },
    async release(key, token) {
      await ready();
      await releaseScript(prefix + key, token);
    },
    async put(key, value, ttlMs) {
      await ready();
      await redis.set(prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async get(key) {
      await ready();
      const value = await redis.get(prefix + key);
      return value ?? undefined;
    },
    async ping() {
      await ready();
      return (await redis.ping()) === 'PONG';
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
