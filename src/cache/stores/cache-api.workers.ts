import type { CacheEntry, CacheKey, CacheStore } from '../types.js';
import { utf8 } from '../../lib/bytes.js';
import type { Clock } from '../../lib/clock.js';
import { guardStoreCall, storeOk } from '../../lib/store-result.js';
import type { GenerationSource } from './purge-generations.workers.js';

export interface WorkersCacheStoreOptions {
  /** The Cache API cache entries go to (opened lazily: `caches.open` needs a request context). */
  cache: () => Promise<Cache>;
  /** Where each flow's purge generation lives (purge-generations.workers.ts). */
  generations: GenerationSource;
  /** `cache.maxEntrySize`: the stored body plus its metadata headers, in bytes. */
  maxEntrySize: number;
  /** `storeOptions.timeout`: a slower call counts as failed and the request is served without cache. */
  timeoutMs: number;
  clock: Clock;
}

/** Entry metadata travels in headers of the stored response; the body is the execution Output as is. */
const H = {
  executionName: 'x-flowgate-execution-name',
  storedAt: 'x-flowgate-stored-at',
  expiresAt: 'x-flowgate-expires-at',
  generation: 'x-flowgate-generation',
} as const;

/**
 * The response cache on Workers: the Cache API of the data center that serves the request. Entries
 * sit under a synthetic GET URL built from hashes only, `https://flowgate.cache/<flow>/<generation>/<sha256>`,
 * so no POST body and no request header ever becomes a cache key. `s-maxage` carries the TTL, and
 * the expiry header is checked on read as well. There is no cross-isolate lock: concurrent misses are
 * coalesced per isolate by the core, and the Cache API has no atomic claim to build one on.
 */
export function createWorkersCacheStore(options: WorkersCacheStoreOptions): CacheStore {
  const { cache, generations, maxEntrySize, timeoutMs, clock } = options;
  if (typeof cache !== 'function') throw new TypeError('cache must open a Cache API cache');
  if (typeof generations?.current !== 'function') throw new TypeError('generations must be a GenerationSource');
  if (!Number.isSafeInteger(maxEntrySize) || maxEntrySize <= 0) throw new TypeError('maxEntrySize must be a positive number of bytes');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number of milliseconds');

  const guard = <T>(call: () => Promise<T>) => guardStoreCall(call, timeoutMs);
  const entryUrl = (key: CacheKey, generation: number) => `https://flowgate.cache/${encodeURIComponent(key.flow)}/${generation}/${key.hash}`;
  const metadata = (entry: CacheEntry, ttlS: number): Record<string, string> => ({
    'content-type': 'application/json',
    'cache-control': `s-maxage=${ttlS}`,
    [H.executionName]: encodeURIComponent(entry.executionName),
    [H.storedAt]: String(entry.storedAt),
    [H.expiresAt]: String(entry.expiresAt),
    [H.generation]: String(entry.generation),
  });
  const sizeOf = (entry: CacheEntry) =>
    utf8(entry.body).byteLength + Object.entries(metadata(entry, 0)).reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);

  return {
    kind: 'cache-api',
    async get(key) {
      return guard(async () => {
        const generation = await generations.current(key.flow);
        const found = await (await cache()).match(entryUrl(key, generation));
        const entry = found ? await readEntry(found) : undefined;
        const fresh = entry && entry.generation === generation && entry.expiresAt > clock.now() ? entry : undefined;
        return { generation, entry: fresh };
      });
    },
    fits: (_key, entry) => sizeOf(entry) <= maxEntrySize,
    async set(key, entry) {
      if (sizeOf(entry) > maxEntrySize) return storeOk('too-large' as const);
      const ttlS = Math.floor((entry.expiresAt - clock.now()) / 1000);
      // The Cache API counts whole seconds; an entry with less than one left is not worth a write.
      if (ttlS < 1) return storeOk('stored' as const);
      const result = await guard(async () =>
        (await cache()).put(entryUrl(key, entry.generation), new Response(entry.body, { headers: metadata(entry, ttlS) })),
      );
      return result.ok ? storeOk('stored' as const) : result;
    },
    async delete(key) {
      const result = await guard(async () => (await cache()).delete(entryUrl(key, await generations.current(key.flow))));
      return result.ok ? storeOk(undefined) : result;
    },
    async purge(flow) {
      const result = await guard(() => generations.advance(flow));
      return result.ok ? storeOk(undefined) : result;
    },
  };
}

/** A response that is not ours (or from an older layout) is a miss, never an error. */
async function readEntry(response: Response): Promise<CacheEntry | undefined> {
  const number = (name: string) => {
    const n = Number(response.headers.get(name) ?? Number.NaN);
    return Number.isFinite(n) ? n : undefined;
  };
  const storedAt = number(H.storedAt);
  const expiresAt = number(H.expiresAt);
  const generation = number(H.generation);
  const name = response.headers.get(H.executionName);
  if (storedAt === undefined || expiresAt === undefined || generation === undefined || name === null) {
    await response.body?.cancel();
    return undefined;
  }
  let executionName: string;
  try {
    executionName = decodeURIComponent(name);
  } catch {
    await response.body?.cancel();
    return undefined;
  }
  return { body: await response.text(), executionName, storedAt, expiresAt, generation };
}
