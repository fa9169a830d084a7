import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { bump, type Counters } from '../../lib/counters.js';
import { GCRA_SCRIPT, decodeScriptReply, scriptArguments } from '../gcra-script.js';
import type { RateLimitStore } from '../types.js';
import { guardStoreCall } from '../../lib/store-result.js';

export interface RedisRateLimitOptions {
  /** Waits for the connection (see RedisConnection.ready). */
  ready(): Promise<void>;
  /** A decision that takes longer fails (open or closed, as configured). */
  timeoutMs: number;
  counters?: Counters | undefined;
}

/**
 * Counters in Redis, exact across any number of gateway processes: every policy of a request is
 * decided by one script run (EVALSHA; EVAL when the server's script cache was flushed).
 */
export function redisRateLimitStore(redis: Redis, options: RedisRateLimitOptions): RateLimitStore {
  const { ready, timeoutMs, counters } = options;
  const sha = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

  async function run(keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // EVAL runs the script and caches it again, so the next request is back on EVALSHA.
      bump(counters, 'ratelimit.script_loads');
      return redis.eval(GCRA_SCRIPT, keys.length, ...keys, ...args);
    }
  }

  return {
    kind: 'redis',
    check(policies, now) {
      return guardStoreCall(async () => {
        await ready();
        const { keys, args } = scriptArguments(policies, now);
        return decodeScriptReply(policies, await run(keys, args));
      }, timeoutMs);
    },
  };
}
