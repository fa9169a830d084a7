import { createMemoryCacheStore } from '../../cache/stores/memory.js';
import type { CacheStore } from '../../cache/types.js';
import type { Config } from '../../config/load.js';
import { assembleDeps, configuresCache, type Deps, type RuntimeOverrides } from '../../deps.js';
import { systemClock } from '../../lib/clock.js';
import type { Counters } from '../../lib/counters.js';
import { cryptoRandom } from '../../lib/random.js';
import { connectRedis, type RedisConnection } from './redis.js';
import { loadedStoreTarget } from '../../config/store.js';
import { redisRateLimitStore } from '../../ratelimit/stores/redis.node.js';
import { createRedisCacheStore } from '../../cache/stores/redis.node.js';
import { undiciTransport } from './transport.js';
import { stdoutLogger } from './logger.js';
import { nodeCrypto } from './digests.js';
import { nodePeerAddress } from './peer-address.js';
import type { RecordStore } from '../../records/types.js';
import { redisRecordStore } from '../../records/stores/redis.node.js';
import { memoryRecordStore } from '../../records/stores/memory.js';
import { memoryRateLimitStore } from '../../ratelimit/stores/memory.js';
import { nodeCredentialSource } from './credentials.js';

export interface NodeDepsOptions extends RuntimeOverrides {
  /** Where named counters go; a fresh object when absent. */
  counters?: Counters;
  /** Overrides the record store chosen by `store` (tests). */
  records?: RecordStore;
}

export interface NodeRuntime {
  deps: Deps;
  /** Resolves when every deferred background run has settled. */
  drain(): Promise<void>;
  /** Releases pools and store connections. */
  close(): Promise<void>;
  /** Named counters (rate-limit outcomes, store failures), for a metrics endpoint or a log line. */
  counters: Counters;
  /** The one Redis connection when `store` is Redis: its client's events (`ready` after a reconnect) say when the stores can answer again. */
  redis: RedisConnection | undefined;
}

/**
 * Builds the Node dependencies, and is where Node chooses every implementation: undici pool upstream,
 * the official `@alicloud/credentials` providers for the upstream keys, node:crypto digests, in-process stores for `store: memory` or Redis ones for `store: redis://…`, `redis+cluster://…` or `redis+sentinel://…`, stdout JSON log.
 */
export function createNodeRuntime(config: Config, options: NodeDepsOptions = {}): NodeRuntime {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const buffered = options.log ? undefined : stdoutLogger();
  const log = options.log ?? buffered!;
  const pooled = options.transport ? undefined : undiciTransport(config.upstream.endpoint, { connections: config.upstream.connections });
  const inFlight = new Set<Promise<unknown>>();
  const counters: Counters = options.counters ?? {};
  // A Redis store (one server, a Cluster or Sentinel's primary) shares rate-limit counters, cached answers
  // and records across processes, over one client.
  const target = loadedStoreTarget(config.store);
  const redis = target.kind === 'memory' ? undefined : connectRedis(target, { timeoutMs: config.storeOptions.timeout, log });
  const needsCache = configuresCache(config);
  let cache: CacheStore | undefined;
  if (needsCache && !redis) {
    cache = createMemoryCacheStore({ maxSize: config.cache.maxSize, maxEntrySize: config.cache.maxEntrySize, clock });
  } else if (needsCache && redis) {
    cache = createRedisCacheStore({
      redis: redis.redis,
      ready: redis.ready,
      keyPrefix: config.storeOptions.keyPrefix,
      timeoutMs: config.storeOptions.timeout,
      maxEntrySize: config.cache.maxEntrySize,
      clock,
      random,
    });
  }
  const rateLimitStore = redis
    ? redisRateLimitStore(redis.redis, { ready: redis.ready, timeoutMs: config.storeOptions.timeout })
    : memoryRateLimitStore({ maxKeys: config.storeOptions.maxKeys });
  const records =
    options.records ??
    (redis
      ? redisRecordStore({ redis: redis.redis, ready: redis.ready, keyPrefix: config.storeOptions.keyPrefix })
      : memoryRecordStore({ clock, maxSize: config.storeOptions.recordsMaxSize }));
  const deps = assembleDeps(config, {
    transport: options.transport ?? pooled!.transport,
    credentialSource: options.credentialSource ?? nodeCredentialSource(config.upstream.credentials),
    signingCrypto: nodeCrypto,
    clock,
    random,
    log,
    clientIp: nodePeerAddress,
    // The socket's peer; server.trustProxy decides which forwarded header, if any, is believed.
    platformClientAddress: false,
    keepAlive(work) {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
    readiness: redis ? [redis.readiness] : [],
    rateLimitStore,
    counters,
    cache,
    sha256Hex: nodeCrypto.sha256Hex,
    records,
  });
  return {
    deps,
    counters,
    redis,
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close() {
      // The store closes first: a background run cut off by the pool's close below must not record an
      // outcome (a 502 for an execution that may have run); its record stays Running, then reads Unknown.
      await redis?.close();
      await pooled?.close();
      buffered?.flush();
    },
  };
}
