import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { durableObjectGenerations, type GenerationSource } from '../../src/cache/stores/purge-generations.workers.js';
import { createWorkersCacheStore } from '../../src/cache/stores/cache-api.workers.js';
import type { RecordsNamespace, RecordsStub } from '../../src/records/stores/durable-object.workers.js';
import { manualTimer } from '../helpers/manual-timer.js';

/**
 * The parts of the Workers cache store that do not need the Cache API itself: option checks, the
 * failure paths, and how often an isolate reads the purge generation. The Cache API and the real
 * object are exercised in workerd (edge-stores.workerd.test.ts).
 */

const KEY = { flow: 'quote', hash: 'a'.repeat(64) };
const noCache = () => Promise.reject(new Error('the Cache API is not reached in these tests'));

/** A records namespace holding one generation, counting reads; `fail` makes the next read reject. */
function generationObject() {
  const state = { generation: 0, reads: 0, fail: false };
  const object = {
    async get() {
      state.reads++;
      if (state.fail) throw new Error('object unreachable');
      return state.generation ? String(state.generation) : undefined;
    },
    async advance(_key: string, floor: number) {
      state.generation = Math.max(floor, state.generation + 1);
      return state.generation;
    },
  } as unknown as RecordsStub;
  const namespace: RecordsNamespace = { idFromName: (name) => name, get: () => object };
  return { namespace, state };
}

describe('createWorkersCacheStore', () => {
  const generations: GenerationSource = { scope: 'worldwide', current: async () => 0, advance: async () => 1 };

  it('refuses bad options when built', () => {
    const clock = manualClock();
    expect(() => createWorkersCacheStore({ cache: undefined as never, generations, maxEntrySize: 1, timeoutMs: 1, clock })).toThrow(/cache/);
    expect(() => createWorkersCacheStore({ cache: noCache, generations: {} as never, maxEntrySize: 1, timeoutMs: 1, clock })).toThrow(/generations/);
    expect(() => createWorkersCacheStore({ cache: noCache, generations, maxEntrySize: 0, timeoutMs: 1, clock })).toThrow(/maxEntrySize/);
    expect(() => createWorkersCacheStore({ cache: noCache, generations, maxEntrySize: 1, timeoutMs: 0, clock })).toThrow(/timeoutMs/);
  });

  it('measures entries in UTF-8 bytes with their metadata, and refuses to store one over maxEntrySize', async () => {
    const clock = manualClock();
    const store = createWorkersCacheStore({ cache: noCache, generations, maxEntrySize: 1024, timeoutMs: 100, clock });
    const entry = (body: string) => ({ body, executionName: 'fg_x:1', storedAt: clock.now(), expiresAt: clock.now() + 60_000, generation: 0 });
    expect(store.fits(KEY, entry('x'.repeat(600)))).toBe(true);
    // 300 three-byte characters: 900 bytes of body, over the cap once the metadata headers count.
    expect(store.fits(KEY, entry('€'.repeat(300)))).toBe(false);
    expect(await store.set(KEY, entry('€'.repeat(300)))).toEqual({ ok: true, value: 'too-large' });
    expect(store.kind).toBe('cache-api');
  });

  it('turns a failing or slow generation read into a store failure value: the request runs without cache', async () => {
    const clock = manualClock();
    const failing = createWorkersCacheStore({
      cache: noCache,
      generations: { ...generations, current: () => Promise.reject(new Error('object unreachable')) },
      maxEntrySize: 1024,
      timeoutMs: 100,
      clock,
    });
    expect(await failing.get(KEY)).toEqual({ ok: false, error: 'unavailable', detail: 'object unreachable' });
    const hanging = createWorkersCacheStore({
      cache: noCache,
      generations: { ...generations, current: () => new Promise(() => {}), advance: () => new Promise(() => {}) },
      maxEntrySize: 1024,
      timeoutMs: 20,
      clock,
    });
    expect(await hanging.get(KEY)).toMatchObject({ ok: false, error: 'timeout' });
    // A purge that did not happen is reported, so the admin gets 503 instead of Purged: true.
    expect(await hanging.purge('quote')).toMatchObject({ ok: false, error: 'timeout' });
  });
});

describe('durableObjectGenerations', () => {
  it('reads the object once per flow per refresh interval, sharing concurrent reads', async () => {
    const clock = manualClock(1_000_000);
    const { namespace, state } = generationObject();
    // No lease ends unless the test says so: the read hashes its key on Node's thread pool, which on a busy
    // machine can take longer than a real 50 ms lease, and the waiters would then read themselves.
    const timers = manualTimer();
    const source = durableObjectGenerations(namespace, { clock, refreshMs: 5_000, leaseMs: 50, timer: timers.timer });
    expect(await Promise.all([source.current('quote'), source.current('quote'), source.current('quote')])).toEqual([0, 0, 0]);
    expect(state.reads).toBe(1);
    clock.advance(4_999);
    await source.current('quote');
    expect(state.reads).toBe(1);
    clock.advance(1);
    await source.current('quote');
    expect(state.reads).toBe(2);
    expect(source.scope).toBe('worldwide');
  });

  it('sees its own purge at once and another isolate’s within the interval; the generation only moves forward', async () => {
    const clock = manualClock(1_000_000);
    const { namespace, state } = generationObject();
    const here = durableObjectGenerations(namespace, { clock, refreshMs: 5_000, leaseMs: 50 });
    const elsewhere = durableObjectGenerations(namespace, { clock, refreshMs: 5_000, leaseMs: 50 });
    expect(await elsewhere.current('quote')).toBe(0);
    const purged = await here.advance('quote');
    expect(purged).toBe(1_000_000);
    expect(await here.current('quote')).toBe(purged);
    expect(await elsewhere.current('quote')).toBe(0);
    clock.advance(5_000);
    expect(await elsewhere.current('quote')).toBe(purged);
    // Two purges in the same millisecond still move forward.
    expect(await here.advance('quote')).toBe(clock.now());
    expect(await here.advance('quote')).toBe(clock.now() + 1);
    expect(state.generation).toBe(clock.now() + 1);
  });

  it('forgets a failed read, so the next lookup asks again instead of failing for the whole interval', async () => {
    const clock = manualClock(1_000_000);
    const { namespace, state } = generationObject();
    const source = durableObjectGenerations(namespace, { clock, refreshMs: 5_000, leaseMs: 50 });
    state.fail = true;
    await expect(source.current('quote')).rejects.toThrow('object unreachable');
    state.fail = false;
    expect(await source.current('quote')).toBe(0);
    expect(state.reads).toBe(2);
  });

  it('a read that never settles (its request was cancelled) holds other lookups only for the lease; they read themselves', async () => {
    const clock = manualClock(1_000_000);
    const timers = manualTimer();
    const { namespace, state } = generationObject();
    let gets = 0;
    let firstRead!: () => void;
    const firstReadStarted = new Promise<void>((resolve) => (firstRead = resolve));
    const object = namespace.get(undefined as never);
    const gated: RecordsNamespace = {
      idFromName: (name) => name,
      get: () =>
        ({
          ...object,
          get: (key: string) => (++gets === 1 ? (firstRead(), new Promise<never>(() => {})) : object.get(key)),
        }) as RecordsStub,
    };
    const source = durableObjectGenerations(gated, { clock, refreshMs: 5_000, leaseMs: 50, timer: timers.timer });
    void source.current('quote'); // the cancelled request's read
    await firstReadStarted;
    const lookups = Promise.all([source.current('quote'), source.current('quote')]);
    await timers.untilArmed(2);
    expect(timers.armed()).toEqual([50, 50]);
    timers.fireAll();
    expect(await lookups).toEqual([0, 0]);
    expect(state.reads).toBe(1); // one read for both waiters
  });

  it('a read that started before a purge and lands after it never brings the older generation back', async () => {
    const clock = manualClock(1_000_000);
    const { namespace } = generationObject();
    const object = namespace.get(undefined as never);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let readDone!: () => void;
    const readBeforePurge = new Promise<void>((resolve) => (readDone = resolve));
    const slow: RecordsNamespace = {
      idFromName: (name) => name,
      get: () =>
        ({
          ...object,
          get: async (key: string) => {
            const before = await object.get(key);
            readDone();
            await held;
            return before;
          },
        }) as RecordsStub,
    };
    const source = durableObjectGenerations(slow, { clock, refreshMs: 5_000, leaseMs: 50 });
    const stale = source.current('quote'); // reads 0, lands after the purge
    await readBeforePurge;
    const purged = await source.advance('quote');
    release();
    expect(await stale).toBe(purged);
    expect(await source.current('quote')).toBe(purged);
  });
});
