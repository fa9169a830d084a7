import { getConnInfo } from '@hono/node-server/conninfo';
import { Redis } from 'ioredis';
import { createMemoryCacheStore } from '../cache/memory-store.js';
import type { CacheStore } from '../cache/types.js';
import { createCloudFlowClient } from '../cloudflow/client.js';
import { staticCredentials } from '../cloudflow/credentials.js';
import type { Transport } from '../cloudflow/transport.js';
import type { Config } from '../config/load.js';
import type { Deps, Logger } from '../deps.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { cryptoRandom, type Random } from '../lib/random.js';
import { createRedisCacheStore } from './node-redis-cache.js';
import { undiciTransport } from './node-transport.js';

export interface NodeDepsOptions {
  log?: Logger;
  transport?: Transport;
  clock?: Clock;
  random?: Random;
  /** A Redis client to use instead of connecting to `config.store`; the caller then owns (and closes) it. */
  redis?: Redis;
}

export interface NodeRuntime {
  deps: Deps;
  /** Resolves when every deferred background run has settled. */
  drain(): Promise<void>;
  /** Releases pools and store connections. */
  close(): Promise<void>;
}

export const stdoutLogger: Logger = (line) => {
  process.stdout.write(JSON.stringify(line) + '\n');
};

/** Builds the Node dependencies: undici pool upstream, in-process stores, stdout JSON log. */
export function createNodeRuntime(config: Config, options: NodeDepsOptions = {}): NodeRuntime {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const log = options.log ?? stdoutLogger;
  const pooled = options.transport ? undefined : undiciTransport(config.upstream.endpoint, { connections: config.upstream.connections });
  const upstream = createCloudFlowClient({
    endpoint: config.upstream.endpoint,
    credentials: staticCredentials(config.upstream.credentials),
    transport: options.transport ?? pooled!.transport,
    signatureVersion: config.upstream.signatureVersion,
    timeoutMs: config.upstream.timeout,
    clock,
    random,
  });
  const needsCache = Object.values(config.flows).some((flow) => flow.cache);
  let ownRedis: Redis | undefined;
  let cache: CacheStore | undefined;
  if (needsCache && config.store === 'memory') {
    cache = createMemoryCacheStore({ maxSize: config.cache.maxSize, maxEntrySize: config.cache.maxEntrySize, clock });
  } else if (needsCache) {
    // Commands queue until connected, bounded by storeOptions.timeout; a failure fails open.
    const redis = options.redis ?? (ownRedis = new Redis(config.store, { maxRetriesPerRequest: 1 }));
    if (ownRedis) ownRedis.on('error', (error: Error) => log({ level: 'warn', msg: 'redis connection error', detail: error.message.slice(0, 200) }));
    cache = createRedisCacheStore({ redis, keyPrefix: config.storeOptions.keyPrefix, timeoutMs: config.storeOptions.timeout, maxEntrySize: config.cache.maxEntrySize, clock, random });
  }
  const inFlight = new Set<Promise<unknown>>();
  const deps: Deps = {
    config,
    upstream,
    clock,
    random,
    log,
    clientIp: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
    cache,
    defer(work) {
      const tracked = work.catch((error: unknown) => log({ level: 'error', msg: 'background work failed', detail: error instanceof Error ? error.message : String(error) }));
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
    },
  };
  return {
    deps,
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close() {
      await pooled?.close();
      await ownRedis?.quit().catch(() => ownRedis?.disconnect());
    },
  };
}
