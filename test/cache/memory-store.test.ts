import { describe, expect, it } from 'vitest';
import { createMemoryCacheStore } from '../../src/cache/stores/memory.js';
import type { CacheEntry, CacheKey } from '../../src/cache/types.js';
import { manualClock } from '../../src/lib/clock.js';

const MiB = 1024 * 1024;

function entry(clock: { now(): number }, body: string, ttlMs = 60_000, generation = 0): CacheEntry {
  return { body, executionName: 'fg_req:11111111-2222-4333-8444-555555555555', storedAt: clock.now(), expiresAt: clock.now() + ttlMs, generation };
}

const key = (flow: string, n: number): CacheKey => ({ flow, hash: n.toString(16).padStart(64, '0') });

async function value<T>(p: Promise<{ ok: true; value: T } | { ok: false }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error('store failed');
  return r.value;
}

describe('memory cache store', () => {
  it('stays within its byte budget: 100k distinct entries into 8 MiB', async () => {
    const clock = manualClock();
    const store = createMemoryCacheStore({ maxSize: 8 * MiB, maxEntrySize: 64 * 1024, clock });
    let maxSeen = 0;
    let stored = 0;
    const pads = Array.from({ length: 500 }, (_, n) => 'x'.repeat(n));
    for (let i = 0; i < 100_000; i++) {
      const result = await store.set(key('f', i), entry(clock, `{"i":${i},"pad":"${pads[i % 500]}"}`));
      if (result.ok && result.value === 'stored') stored++;
      maxSeen = Math.max(maxSeen, store.calculatedSize);
    }
    expect(stored).toBe(100_000);
    expect(maxSeen).toBeLessThanOrEqual(8 * MiB);
    // It really filled up and evicted, rather than refusing everything.
    expect(store.calculatedSize).toBeGreaterThan(7 * MiB);
    expect(store.entryCount).toBeLessThan(100_000);
    // The newest entry is there, the oldest evicted.
    expect((await value(store.get(key('f', 99_999)))).entry).toBeDefined();
    expect((await value(store.get(key('f', 0)))).entry).toBeUndefined();
  });

  it('expires entries by the injected clock, lazily', async () => {
    const clock = manualClock();
    const store = createMemoryCacheStore({ maxSize: MiB, maxEntrySize: MiB, clock });
    await store.set(key('f', 1), entry(clock, '{"a":1}', 60_000));
    clock.advance(59_999);
    expect((await value(store.get(key('f', 1)))).entry?.body).toBe('{"a":1}');
    clock.advance(1);
    expect((await value(store.get(key('f', 1)))).entry).toBeUndefined();
    expect(store.entryCount).toBe(0);
  });

  it('refuses entries over maxEntrySize and says so up front', async () => {
    const clock = manualClock();
    const store = createMemoryCacheStore({ maxSize: MiB, maxEntrySize: 1024, clock });
    const big = entry(clock, JSON.stringify({ pad: 'x'.repeat(1024) }));
    expect(store.fits(key('f', 1), big)).toBe(false);
    expect(await value(store.set(key('f', 1), big))).toBe('too-large');
    expect((await value(store.get(key('f', 1)))).entry).toBeUndefined();
    const small = entry(clock, '{"ok":true}');
    expect(store.fits(key('f', 2), small)).toBe(true);
  });

  it('purges one flow: its generation moves on and its entries are gone; other flows keep theirs', async () => {
    const clock = manualClock();
    const store = createMemoryCacheStore({ maxSize: MiB, maxEntrySize: MiB, clock });
    await store.set(key('a', 1), entry(clock, '{}'));
    await store.set(key('b', 1), entry(clock, '{}'));
    expect(await value(store.purge('a'))).toBeUndefined();
    const a = await value(store.get(key('a', 1)));
    expect(a).toEqual({ generation: 1, entry: undefined });
    expect((await value(store.get(key('b', 1)))).entry).toBeDefined();
    // A run that started before the purge writes under the old generation: never served.
    await store.set(key('a', 2), entry(clock, '{}', 60_000, 0));
    expect((await value(store.get(key('a', 2)))).entry).toBeUndefined();
    await store.set(key('a', 3), entry(clock, '{}', 60_000, 1));
    expect((await value(store.get(key('a', 3)))).entry).toBeDefined();
  });

  it('refuses unbounded or malformed options when built', () => {
    const clock = manualClock();
    expect(() => createMemoryCacheStore({ maxSize: 0, maxEntrySize: 1, clock })).toThrow(/maxSize/);
    expect(() => createMemoryCacheStore({ maxSize: 1, maxEntrySize: -1, clock })).toThrow(/maxEntrySize/);
    expect(() => createMemoryCacheStore({ maxSize: 1, maxEntrySize: 1, clock: {} as never })).toThrow(/clock/);
  });
});
