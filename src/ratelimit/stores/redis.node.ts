import { defineScript, type RedisClient } from '../../platform/node/redis.js';
import { GCRA_SCRIPT, decodeScriptReply, scriptArguments } from '../gcra-script.js';
import type { RateLimitStore } from '../types.js';
import { guardStoreCall } from '../../lib/store-result.js';

export interface RedisRateLimitOptions {
  /** Waits for the connection (see RedisConnection.ready). */
  ready(): Promise<void>;
  /** A decision that takes longer fails (open or closed, as configured). */
  timeoutMs: number;
}

/**
 * Counters in Redis, exact across any number of gateway processes: every policy of a request is
 * decided by one script run, an EVALSHA (see defineScript). On Redis Cluster the script's keys must share
 * a slot: policy keys carry the caller id as a hash tag (ratelimit/policies.ts), and ioredis sends the
 * script to the master of its first key's slot.
 */
export function redisRateLimitStore(redis: RedisClient, options: RedisRateLimitOptions): RateLimitStore {
  const { ready, timeoutMs } = options;
  // One key per policy: the key count leads each call's arguments.
  const gcra = defineScript(redis, 'flowgateGcra', GCRA_SCRIPT);

  return {
    kind: 'redis',
    check(policies, now) {
      return guardStoreCall(async () => {
        await ready();
        const { keys, args } = scriptArguments(policies, now);
        return decodeScriptReply(policies, await gcra(keys.length, ...keys, ...args));
      }, timeoutMs);
    },
  };
}
