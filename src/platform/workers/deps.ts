import { waitUntil } from 'cloudflare:workers';
import type { Counters } from '../../lib/counters.js';
import { plainMetrics } from '../../metrics/plain.js';
import { fetchTransport } from '../../cloudflow/transport.js';
import type { Config } from '../../config/load.js';
import { assembleDeps, configuresCache, type Deps, type RuntimeOverrides } from '../../deps.js';
import type { Logger } from '../../log.js';
import { systemClock } from '../../lib/clock.js';
import { cryptoRandom } from '../../lib/random.js';
import { cacheApiGenerations, durableObjectGenerations } from '../../cache/stores/purge-generations.workers.js';
import { createWorkersCacheStore } from '../../cache/stores/cache-api.workers.js';
import { durableObjectRecordStore, type RecordsNamespace } from '../../records/stores/durable-object.workers.js';
import { durableObjectRateLimitStore, type RateLimiterNamespace } from '../../ratelimit/stores/durable-object.workers.js';
import { workersClientIp } from './client-address.js';
import { sha256Hex } from '../../cloudflow/signing/digests.js';
import { memoryRateLimitStore } from '../../ratelimit/stores/memory.js';
import { memoryRecordStore } from '../../records/stores/memory.js';
import { workersCredentialSource } from './credentials.js';

export interface WorkersDepsOptions extends RuntimeOverrides {
  /** Keeps work alive past the response; the platform's `waitUntil` unless a test supplies its own. */
  defer?: (work: Promise<unknown>) => void;
  /** The `RATE_LIMITER` Durable Object binding: exact counters per caller. Without it, counters are per isolate. */
  rateLimiter?: RateLimiterNamespace | undefined;
  /**
   * The `RECORDS` Durable Object binding: delivery, Idempotency-Key and `ack` records shared by every
   * isolate, and the cache's purge generations. Without it, records are per isolate and a purge per data center.
   */
  records?: RecordsNamespace | undefined;
  /** The Cache API cache for responses; `caches.open('flowgate')` unless a test supplies its own. */
  cache?: () => Promise<Cache>;
}

/** How long an isolate trusts a purge generation it read from the `RECORDS` object before reading it again. */
export const GENERATION_REFRESH_MS = 5_000;

/** One JSON object per line on stdout: Workers Logs and `wrangler tail` index JSON fields. */
export const consoleLogger: Logger = (line) => {
  console.log(JSON.stringify(line));
};

/**
 * Builds the Workers dependencies once per isolate, and is where Workers choose every implementation:
 * global `fetch` upstream (the deadline travels as an AbortSignal), Web Crypto digests, rate-limit counters
 * and records in Durable Objects (in isolate memory without the bindings), the response cache in the Cache
 * API, background work (cache writes, `ack` runs) through `waitUntil`, JSON log lines on the console.
 */
export function createWorkersDeps(config: Config, options: WorkersDepsOptions = {}): Deps {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const log = options.log ?? consoleLogger;
  const openCache = options.cache ?? lazyCache('flowgate');
  const cache = configuresCache(config)
    ? createWorkersCacheStore({
        cache: openCache,
        generations: options.records
          ? durableObjectGenerations(options.records, {
              clock,
              refreshMs: GENERATION_REFRESH_MS,
              leaseMs: Math.max(1, Math.floor(config.storeOptions.timeout / 4)),
            })
          : cacheApiGenerations({ cache: openCache, clock }),
        maxEntrySize: config.cache.maxEntrySize,
        timeoutMs: config.storeOptions.timeout,
        clock,
      })
    : undefined;
  const counters: Counters = {};
  return assembleDeps(config, {
    transport: options.transport ?? fetchTransport(),
    credentialSource:
      options.credentialSource ?? workersCredentialSource(config.upstream.credentials, { fetch: (input, init) => fetch(input, init), clock, random }),
    clock,
    random,
    log,
    clientIp: workersClientIp,
    platformClientAddress: true,
    keepAlive: options.defer ?? waitUntil,
    // Bindings are not probed per request: a missing one is reported once, when the isolate starts (worker.ts).
    readiness: [],
    // Without the bindings, counters and records are per isolate.
    rateLimitStore: options.rateLimiter
      ? durableObjectRateLimitStore(options.rateLimiter, { timeoutMs: config.storeOptions.timeout })
      : memoryRateLimitStore({ maxKeys: config.storeOptions.maxKeys }),
    // Per isolate, like the metrics that expose them (GET /metrics answers with the isolate that took the scrape).
    counters,
    metrics: plainMetrics(counters),
    cache,
    sha256Hex,
    records: options.records ? durableObjectRecordStore(options.records) : memoryRecordStore({ clock, maxSize: config.storeOptions.recordsMaxSize }),
    // Web Crypto: Workers have no synchronous HMAC.
    webhookHmac: undefined,
  });
}

/**
 * Opens the named cache on first use and keeps the opened cache: `caches.open` is only allowed inside
 * a request. Requests share the settled Cache, never an open in flight, which would belong to the
 * request that started it.
 */
function lazyCache(name: string): () => Promise<Cache> {
  let opened: Cache | undefined;
  return async () => (opened ??= await caches.open(name));
}
