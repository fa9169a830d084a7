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
import { stdoutLogger, type BufferedLogger } from './logger.js';
import { nodeCrypto, nodeWebhookHmac } from './digests.js';
import { nodePeerAddress } from './peer-address.js';
import type { RecordStore } from '../../records/types.js';
import { redisRecordStore } from '../../records/stores/redis.node.js';
import { memoryRecordStore } from '../../records/stores/memory.js';
import { memoryRateLimitStore } from '../../ratelimit/stores/memory.js';
import { nodeCredentialSource } from './credentials.js';
import { promClientMetrics, type NodeMetrics } from './metrics.js';
import type { RateLimitStore } from '../../ratelimit/types.js';
import type { Transport } from '../../cloudflow/transport.js';

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
  /** Named counters (rate-limit outcomes, store failures, credential refreshes), read by the metrics. */
  counters: Counters;
  /** prom-client metrics behind `GET /metrics`. */
  metrics: NodeMetrics;
  /** The one Redis connection when `store` is Redis: its client's events (`ready` after a reconnect) say when the stores can answer again. */
  redis: RedisConnection | undefined;
  /**
   * A runtime for `config` that keeps this one's state: counters and metrics, the rate-limit, cache and record
   * stores (and the Redis connection), background work, and the upstream connection pool when the endpoint is
   * the same. What only a restart can change is listed in `restartNeeded` by key path, and keeps its old value.
   * Close only the last runtime of a chain: it releases what they share.
   */
  reload(config: Config): { runtime: NodeRuntime; restartNeeded: string[] };
}

/** What reloads keep: everything that holds state or a connection. */
interface Shared {
  options: NodeDepsOptions;
  config: Config;
  clock: NonNullable<NodeDepsOptions['clock']>;
  random: NonNullable<NodeDepsOptions['random']>;
  log: NonNullable<NodeDepsOptions['log']>;
  buffered: BufferedLogger | undefined;
  inFlight: Set<Promise<unknown>>;
  counters: Counters;
  metrics: NodeMetrics;
  redis: RedisConnection | undefined;
  rateLimitStore: RateLimitStore;
  records: RecordStore;
  cache: CacheStore | undefined;
  /** Pools by endpoint and size; all closed with the last runtime. */
  pools: Map<string, { transport: Transport; close(): Promise<void> }>;
}

/** Config keys read once, when the stores and the listener are made; a reload leaves them as they were. */
const FIXED_AT_START: [string, (config: Config) => unknown][] = [
  ['store', (c) => c.store],
  ['storeOptions', (c) => c.storeOptions],
  ['cache.maxSize', (c) => c.cache.maxSize],
  ['cache.maxEntrySize', (c) => c.cache.maxEntrySize],
  ['server.port', (c) => c.server.port],
  ['server.host', (c) => c.server.host],
  // The listener refuses an `Expect: 100-continue` body over it before the app sees the request.
  ['server.maxBodySize', (c) => c.server.maxBodySize],
  ['server.headersTimeout', (c) => c.server.headersTimeout],
  ['server.requestTimeout', (c) => c.server.requestTimeout],
  ['server.keepAliveTimeout', (c) => c.server.keepAliveTimeout],
  ['server.shutdownTimeout', (c) => c.server.shutdownTimeout],
  ['server.metrics', (c) => c.server.metrics],
  // The primary forked its workers at start; each worker reloads on its own, and none can change their number.
  ['server.workers', (c) => c.server.workers],
];

/**
 * Builds the Node dependencies, and is where Node chooses every implementation: undici pool upstream,
 * the official `@alicloud/credentials` providers for the upstream keys, node:crypto digests, in-process stores for
 * `store: memory` or Redis ones for `store: redis://…`, `redis+cluster://…` or `redis+sentinel://…`, prom-client
 * metrics, stdout JSON log.
 */
export function createNodeRuntime(config: Config, options: NodeDepsOptions = {}): NodeRuntime {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const buffered = options.log ? undefined : stdoutLogger();
  const log = options.log ?? buffered!;
  const counters: Counters = options.counters ?? {};
  // A Redis store (one server, a Cluster or Sentinel's primary) shares rate-limit counters, cached answers
  // and records across processes, over one client.
  const target = loadedStoreTarget(config.store);
  const redis = target.kind === 'memory' ? undefined : connectRedis(target, { timeoutMs: config.storeOptions.timeout, log });
  const rateLimitStore = redis
    ? redisRateLimitStore(redis.redis, { ready: redis.ready, timeoutMs: config.storeOptions.timeout })
    : memoryRateLimitStore({ maxKeys: config.storeOptions.maxKeys });
  const records =
    options.records ??
    (redis
      ? redisRecordStore({ redis: redis.redis, ready: redis.ready, keyPrefix: config.storeOptions.keyPrefix })
      : memoryRecordStore({ clock, maxSize: config.storeOptions.recordsMaxSize }));
  const shared: Shared = {
    options,
    config,
    clock,
    random,
    log,
    buffered,
    inFlight: new Set(),
    counters,
    metrics: promClientMetrics(counters),
    redis,
    rateLimitStore,
    records,
    cache: undefined,
    pools: new Map(),
  };
  return runtimeFor(config, shared);
}

/** The cache store, made the first time a config has a flow with `cache` (a reload may add the first one). */
function cacheStore(config: Config, shared: Shared): CacheStore | undefined {
  if (shared.cache || !configuresCache(config)) return shared.cache;
  const { redis, clock, random } = shared;
  const fixed = shared.config;
  shared.cache = redis
    ? createRedisCacheStore({
        redis: redis.redis,
        ready: redis.ready,
        keyPrefix: fixed.storeOptions.keyPrefix,
        timeoutMs: fixed.storeOptions.timeout,
        maxEntrySize: fixed.cache.maxEntrySize,
        clock,
        random,
      })
    : createMemoryCacheStore({ maxSize: fixed.cache.maxSize, maxEntrySize: fixed.cache.maxEntrySize, clock });
  return shared.cache;
}

function transportFor(config: Config, shared: Shared): Transport {
  if (shared.options.transport) return shared.options.transport;
  const key = `${config.upstream.endpoint} ${config.upstream.connections}`;
  let pool = shared.pools.get(key);
  if (!pool) shared.pools.set(key, (pool = undiciTransport(config.upstream.endpoint, { connections: config.upstream.connections })));
  return pool.transport;
}

function runtimeFor(config: Config, shared: Shared): NodeRuntime {
  const { options, clock, random, log, inFlight, counters, metrics, redis } = shared;
  const deps = assembleDeps(config, {
    transport: transportFor(config, shared),
    credentialSource: options.credentialSource ?? nodeCredentialSource(config.upstream.credentials),
    signingCrypto: nodeCrypto,
    webhookHmac: nodeWebhookHmac,
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
    rateLimitStore: shared.rateLimitStore,
    counters,
    metrics,
    cache: cacheStore(config, shared),
    sha256Hex: nodeCrypto.sha256Hex,
    records: shared.records,
  });
  return {
    deps,
    counters,
    metrics,
    redis,
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close() {
      // The store closes first: a background run cut off by the pools' close below must not record an
      // outcome (a 502 for an execution that may have run); its record stays Running, then reads Unknown.
      await redis?.close();
      await Promise.all([...shared.pools.values()].map((pool) => pool.close()));
      shared.buffered?.flush();
    },
    reload(next) {
      const same = (read: (c: Config) => unknown) => JSON.stringify(read(shared.config)) === JSON.stringify(read(next));
      const restartNeeded = FIXED_AT_START.filter(([, read]) => !same(read)).map(([path]) => path);
      // The fixed keys keep their running values, so what the new config says of them is not half applied.
      const effective: Config = {
        ...next,
        store: shared.config.store,
        storeOptions: shared.config.storeOptions,
        cache: shared.config.cache,
        server: {
          ...next.server,
          ...Object.fromEntries(
            (['port', 'host', 'maxBodySize', 'headersTimeout', 'requestTimeout', 'keepAliveTimeout', 'shutdownTimeout', 'metrics', 'workers'] as const).map(
              (key) => [key, shared.config.server[key]],
            ),
          ),
        },
      };
      return { runtime: runtimeFor(effective, shared), restartNeeded };
    },
  };
}
