import { Redis } from 'ioredis';
import type { ReadinessCheck } from '../../deps.js';
import type { Logger } from '../../log.js';

/** A Lua script run as a command: the keys, then the arguments (KEYS and ARGV); without a fixed key count, the count first. */
export type RedisScript = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Registers a Lua script on the client as a command (ioredis `defineCommand`) and returns it. Every call
 * is an EVALSHA; the body crosses a connection once, on the script's first use there, and again only when
 * the server has lost it (NOSCRIPT after a `SCRIPT FLUSH`, a restart or a failover), which ioredis handles.
 * `name` must be unique per script on the client. Without `numberOfKeys` each call passes the key count first.
 */
export function defineScript(redis: Redis, name: string, lua: string, numberOfKeys?: number): RedisScript {
  redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  const commands = redis as unknown as Record<string, RedisScript>;
  return (...keysAndArgs) => commands[name]!(...keysAndArgs);
}

export interface RedisConnection {
  redis: Redis;
  /** Resolves once connected; while the first connection attempt is still under way it waits for it, afterwards it fails at once. */
  ready(): Promise<void>;
  readiness: ReadinessCheck;
  close(): Promise<void>;
}

/**
 * One ioredis client for the gateway's shared state. It must never make a request wait on a Redis
 * that is down: no offline queue (commands fail at once while disconnected), one retry per command,
 * and connect/command deadlines tied to `storeOptions.timeout`. It reconnects in the background with
 * capped back-off, and says so in the log at most every 10 s.
 */
export function connectRedis(url: string, options: { timeoutMs: number; log: Logger }): RedisConnection {
  const { timeoutMs, log } = options;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(1_000, timeoutMs * 4),
    commandTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: false,
  });
  let firstAttemptDone = false;
  let lastErrorLog = -Infinity;
  redis.on('ready', () => {
    firstAttemptDone = true;
  });
  redis.on('error', (error: Error) => {
    firstAttemptDone = true;
    const now = Date.now();
    if (now - lastErrorLog >= 10_000) {
      lastErrorLog = now;
      // The URL may carry a password: log the error text only.
      log({ level: 'warn', msg: 'redis connection error', detail: error.message.slice(0, 200) });
    }
  });

  // One shared wait for the first connection, however many requests arrive before it completes.
  const firstConnection = new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('error', (error: Error) => reject(error));
  });
  firstConnection.catch(() => {});

  return {
    redis,
    ready() {
      if (redis.status === 'ready') return Promise.resolve();
      if (firstAttemptDone) return Promise.reject(new Error(`redis is ${redis.status}`));
      return firstConnection;
    },
    readiness: {
      name: 'redis',
      async check() {
        try {
          const answer = await Promise.race([
            redis.ping(),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
          ]);
          return answer === 'PONG' ? { ok: true } : { ok: false, detail: 'unexpected PING answer' };
        } catch (error) {
          return { ok: false, detail: error instanceof Error ? error.message.slice(0, 200) : 'failed' };
        }
      },
    },
    async close() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
