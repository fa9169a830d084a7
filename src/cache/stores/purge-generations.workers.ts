import type { Clock } from '../../lib/clock.js';
import { singleFlight, type Timer } from '../../lib/single-flight.js';
import { recordsStubFor, type RecordsNamespace } from '../../records/stores/durable-object.workers.js';

/**
 * Where the response cache's purge generation of each flow lives. Entries are keyed on it, so a purge
 * is "advance the generation": older entries are never looked up again and age out by their TTL.
 * The one rule every source keeps: a generation only moves forward, and losing it never brings back
 * an older one (which would resurrect purged entries).
 */
export interface GenerationSource {
  /** `durable-object` (worldwide) or `cache-api` (per data center). */
  readonly scope: 'worldwide' | 'data-center';
  current(flow: string): Promise<number>;
  advance(flow: string): Promise<number>;
}

const generationKey = (flow: string) => `cache-gen:${flow}`;

export interface DurableObjectGenerationsOptions {
  clock: Clock;
  /** How long an isolate reuses a generation it read: a purge elsewhere reaches this isolate within it. */
  refreshMs: number;
  /**
   * How long a lookup waits for a read another request started before reading itself (that request may
   * have been cancelled, and its read with it); keep it well under `storeOptions.timeout`.
   */
  leaseMs: number;
  /** The waiting request's own timer (injected in tests). */
  timer?: Timer;
}

/**
 * Generations in the `RECORDS` Durable Objects: durable (never evicted), so a purge is never undone,
 * and one per flow worldwide, so a purge from any data center reaches every data center. Each isolate
 * reuses a read for `refreshMs`, so a cache hit costs a round trip to the object at most once per
 * flow and interval rather than on every request. Requests share the number read, never a read in
 * flight (lib/single-flight.ts): on Workers a read dies with the request that started it.
 */
export function durableObjectGenerations(namespace: RecordsNamespace, options: DurableObjectGenerationsOptions): GenerationSource {
  const { clock, refreshMs, leaseMs, timer } = options;
  if (!Number.isFinite(refreshMs) || refreshMs < 0) throw new TypeError('refreshMs must be a non-negative number of milliseconds');
  const known = new Map<string, { generation: number; readAt: number }>();
  const reads = singleFlight<number>({ clock, leaseMs, ...(timer ? { timer } : {}) });
  /** Generations only move forward: a read that started before a purge and lands after it must not undo it. */
  const remember = (flow: string, generation: number, readAt: number) => {
    const memo = known.get(flow);
    if (!memo || generation > memo.generation) known.set(flow, { generation, readAt });
    else if (generation === memo.generation && readAt > memo.readAt) memo.readAt = readAt;
    return Math.max(generation, memo?.generation ?? 0);
  };
  return {
    scope: 'worldwide',
    async current(flow) {
      const memo = known.get(flow);
      if (memo && clock.now() - memo.readAt < refreshMs) return memo.generation;
      // A failed read leaves nothing behind, so the next lookup tries again.
      return reads.run(flow, async () => {
        const readAt = clock.now();
        const object = await recordsStubFor(namespace, generationKey(flow));
        return remember(flow, parseGeneration(await object.get(generationKey(flow))) ?? 0, readAt);
      });
    },
    async advance(flow) {
      const object = await recordsStubFor(namespace, generationKey(flow));
      return remember(flow, await object.advance(generationKey(flow), Math.floor(clock.now())), clock.now());
    },
  };
}

export interface CacheApiGenerationsOptions {
  cache: () => Promise<Cache>;
  clock: Clock;
}

const ONE_YEAR_S = 365 * 24 * 3600;

/**
 * Generations in the Cache API itself, for deployments without the `RECORDS` binding: local to the
 * data center, so a purge is too. The Cache API may evict anything, including a generation. A missing
 * generation therefore starts a new one at the current time instead of reading as 0: eviction acts
 * like a purge (some extra misses) and never revives entries of an earlier generation, which all
 * carry smaller numbers.
 */
export function cacheApiGenerations(options: CacheApiGenerationsOptions): GenerationSource {
  const { cache, clock } = options;
  const url = (flow: string) => `https://flowgate.cache/${encodeURIComponent(flow)}/generation`;
  const write = async (flow: string, generation: number) => {
    const headers = { 'cache-control': `s-maxage=${ONE_YEAR_S}`, 'content-type': 'text/plain' };
    await (await cache()).put(url(flow), new Response(String(generation), { headers }));
    return generation;
  };
  const read = async (flow: string) => {
    const found = await (await cache()).match(url(flow));
    return found ? parseGeneration(await found.text()) : undefined;
  };
  return {
    scope: 'data-center',
    async current(flow) {
      return (await read(flow)) ?? write(flow, Math.floor(clock.now()));
    },
    async advance(flow) {
      return write(flow, Math.max(Math.floor(clock.now()), ((await read(flow)) ?? 0) + 1));
    },
  };
}

function parseGeneration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
