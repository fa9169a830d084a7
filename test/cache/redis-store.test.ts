import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisCacheStore } from '../../src/cache/stores/redis.node.js';
import { until } from '../helpers/until.js';
import type { CacheEntry, CacheKey, CacheStore } from '../../src/cache/types.js';
import { manualClock } from '../../src/lib/clock.js';
import { cryptoRandom } from '../../src/lib/random.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const key = (flow: string, n: number): CacheKey => ({ flow, hash: n.toString(16).padStart(64, '0') });

function entry(clock: { now(): number }, body: string, ttlMs = 60_000, generation = 0): CacheEntry {
  return { body, executionName: 'fg_req:11111111-2222-4333-8444-555555555555', storedAt: clock.now(), expiresAt: clock.now() + ttlMs, generation };
}

async function value<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: string }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`store failed: ${r.error}`);
  return r.value;
}

describe('Redis cache store (real Redis)', () => {
  const prefix = `flowgate-test-${randomUUID()}:`;
  let redis: Redis;
  let store: CacheStore;
  const clock = manualClock(Date.now());

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = createRedisCacheStore({ redis, keyPrefix: prefix, timeoutMs: 1000, maxEntrySize: 4096, clock, random: cryptoRandom });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('stores with PX and reads back the entry of the current generation', async () => {
    const e = entry(clock, '{"a":1}', 5_000);
    expect(await value(store.set(key('f', 1), e))).toBe('stored');
    expect(await value(store.get(key('f', 1)))).toEqual({ generation: 0, entry: e });
    const pttl = await redis.pttl(`${prefix}cache:{f}:${key('f', 1).hash}`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    expect((await value(store.get(key('f', 2)))).entry).toBeUndefined();
  });

  it('does not serve an entry past its expiry by the injected clock', async () => {
    await store.set(key('f', 3), entry(clock, '{}', 10_000));
    clock.advance(10_000);
    expect((await value(store.get(key('f', 3)))).entry).toBeUndefined();
  });

  it('caps the entry size', async () => {
    const big = entry(clock, JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect(store.fits(key('f', 4), big)).toBe(false);
    expect(await value(store.set(key('f', 4), big))).toBe('too-large');
    expect(await redis.exists(`${prefix}cache:{f}:${key('f', 4).hash}`)).toBe(0);
  });

  it('purges by generation: old entries are never served, other flows keep theirs', async () => {
    await store.set(key('p', 1), entry(clock, '{}'));
    await store.set(key('q', 1), entry(clock, '{}'));
    await value(store.purge('p'));
    expect(await value(store.get(key('p', 1)))).toEqual({ generation: 1, entry: undefined });
    expect((await value(store.get(key('q', 1)))).entry).toBeDefined();
    await store.set(key('p', 1), entry(clock, '{"new":true}', 60_000, 1));
    expect((await value(store.get(key('p', 1)))).entry?.body).toBe('{"new":true}');
  });

  it('treats a value it cannot read as a miss', async () => {
    await redis.set(`${prefix}cache:{f}:${key('f', 9).hash}`, 'not json', 'PX', 10_000);
    expect((await value(store.get(key('f', 9)))).entry).toBeUndefined();
  });

  it('the lock is exclusive, expires, and is released only with its token', async () => {
    const lock = store.lock!;
    const token = await value(lock.acquire(key('l', 1), 5_000));
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(await value(lock.acquire(key('l', 1), 5_000))).toBeUndefined();
    await value(lock.release(key('l', 1), 'someone-else'));
    expect(await value(lock.acquire(key('l', 1), 5_000))).toBeUndefined();
    await value(lock.release(key('l', 1), token!));
    // A 50 ms claim is gone once Redis has expired it. Its expired notification may come late: the active expiry
    // cycle samples keys at random, and the suite's Redis holds many keys with TTLs. Reading the key expires it
    // as soon as its time is up, so the wait ends when the claim has run out in Redis's own clock.
    const claim = `${prefix}cache-lock:{l}:${key('l', 1).hash}`;
    expect(await value(lock.acquire(key('l', 1), 50))).toBeDefined();
    // Written with a 50 ms expiry (or, on a machine that stalled past it, already gone: -2).
    const ttl = await redis.pttl(claim);
    expect(ttl === -2 || (ttl > 0 && ttl <= 50)).toBe(true);
    await until(async () => (await redis.exists(claim)) === 0);
    expect(await value(lock.acquire(key('l', 1), 50))).toBeDefined();
  });

  it('fails as a value, not an exception, when Redis is unreachable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => {});
    const broken = createRedisCacheStore({ redis: dead, keyPrefix: prefix, timeoutMs: 200, maxEntrySize: 4096, clock, random: cryptoRandom });
    const results = await Promise.all([
      broken.get(key('f', 1)),
      broken.set(key('f', 1), entry(clock, '{}')),
      broken.purge('f'),
      broken.lock!.acquire(key('f', 1), 100),
    ]);
    for (const r of results) expect(r.ok).toBe(false);
    dead.disconnect();
  });
});
