import { describe, expect, it } from 'vitest';
import { parseCacheControl } from '../../src/cache/directives.js';
import { createMemoryCacheStore } from '../../src/cache/stores/memory.js';
import { createResponseCache } from '../../src/cache/response-cache.js';
import type { CacheEntry, CacheKey, CacheLock, CacheStore } from '../../src/cache/types.js';
import { manualClock } from '../../src/lib/clock.js';

// The cross-process lock, step by step: the other process (the holder) is simulated inside the
// store, so the order of its store write and lock release against the waiter's polls is exact.
const KEY: CacheKey = { flow: 'quote', hash: 'a'.repeat(64) };

function setup() {
  const clock = manualClock();
  const memory = createMemoryCacheStore({ maxSize: 1 << 20, maxEntrySize: 1 << 16, clock });
  const held = new Map<string, string>();
  let tokens = 0;
  const lock: CacheLock = {
    async acquire(key) {
      if (held.has(key.hash)) return { ok: true, value: undefined };
      const token = `t${++tokens}`;
      held.set(key.hash, token);
      return { ok: true, value: token };
    },
    async release(key, token) {
      if (held.get(key.hash) === token) held.delete(key.hash);
      return { ok: true, value: undefined };
    },
  };
  // Runs once, right after the waiter's n-th read: what the holder does between two polls.
  let gets = 0;
  const afterGet = new Map<number, () => Promise<void>>();
  const store: CacheStore = {
    kind: 'test',
    get: async (key) => {
      const result = await memory.get(key);
      await afterGet.get(++gets)?.();
      return result;
    },
    fits: (key, entry) => memory.fits(key, entry),
    set: (key, entry) => memory.set(key, entry),
    delete: (key) => memory.delete(key),
    purge: (flow) => memory.purge(flow),
    lock,
  };
  const cache = createResponseCache({ store, clock, defer: () => {}, log: () => {}, lockWait: 5_000, sleep: async () => {} });
  const holderEntry = (): CacheEntry => ({
    body: '{"by":"holder"}',
    executionName: 'fg_holder',
    storedAt: clock.now(),
    expiresAt: clock.now() + 60_000,
    generation: 0,
  });
  const holderFinishes = async () => {
    await memory.set(KEY, holderEntry());
    held.delete(KEY.hash);
  };
  return { cache, held, afterGet, holderFinishes };
}

const request = { key: KEY, ttlMs: 60_000, runTimeoutMs: 60_000, directives: parseCacheControl(undefined) };

/** Another process holds the claim; `holder` runs right after the waiter's read number `afterRead`. */
async function waitOnHolder(afterRead: number, holder: (parts: ReturnType<typeof setup>) => Promise<void>) {
  const parts = setup();
  parts.held.set(KEY.hash, 'holder');
  parts.afterGet.set(afterRead, () => holder(parts));
  let runs = 0;
  const answer = await parts.cache.answer(request, async () => {
    runs++;
    return { body: '{"by":"waiter"}', executionName: 'fg_waiter' };
  });
  return { runs, answer, held: parts.held };
}

describe('response cache: waiting on another process', () => {
  it('takes the entry when the holder stores it and releases between two polls, instead of running again', async () => {
    // Read 1 is the lookup, read 2 the waiter's first poll: the holder finishes just after that poll saw nothing.
    const { runs, answer, held } = await waitOnHolder(2, (parts) => parts.holderFinishes());
    expect(runs).toBe(0);
    expect(answer.outcome.body).toBe('{"by":"holder"}');
    expect(answer.headers['cache-status']).toBe('flowgate; fwd=miss; collapsed');
    // The claim taken on the way is given back.
    expect(held.has(KEY.hash)).toBe(false);
  });

  it('takes the entry when the holder finishes between the lookup and the first claim', async () => {
    const { runs, answer, held } = await waitOnHolder(1, (parts) => parts.holderFinishes());
    expect(runs).toBe(0);
    expect(answer.outcome.body).toBe('{"by":"holder"}');
    expect(held.has(KEY.hash)).toBe(false);
  });

  it('runs for itself when the holder releases without storing (its run failed)', async () => {
    const { runs, answer } = await waitOnHolder(2, async (parts) => {
      parts.held.delete(KEY.hash);
    });
    expect(runs).toBe(1);
    expect(answer.outcome.body).toBe('{"by":"waiter"}');
  });
});
