/** The record store contract, held against both implementations: memory and real Redis. */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { manualClock } from '../../src/lib/clock.js';
import { memoryRecordStore } from '../../src/records/stores/memory.js';
import type { RecordStore } from '../../src/records/types.js';
import { redisRecordStore } from '../../src/records/stores/redis.node.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const claimOf = (token: string) => JSON.stringify({ state: 'in-flight', token, fingerprint: 'f', executionName: 'e' });

const prefix = `fgtest:${randomUUID()}:`;
const admin = new Redis(REDIS_URL);
const redisStore = redisRecordStore({ redis: REDIS_URL, keyPrefix: prefix });

afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
  await redisStore.close();
});

const stores: Record<string, () => RecordStore> = {
  memory: () => memoryRecordStore({ clock: manualClock(), maxSize: 1024 * 1024 }),
  redis: () => redisStore,
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`${kind} record store`, () => {
    it('exactly one of many concurrent claims wins; the others see its record', async () => {
      const store = make();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.claim(key, claimOf(`t${i}`), 60_000)));
      const winners = results.filter((r) => r === undefined);
      expect(winners).toHaveLength(1);
      const winner = results.indexOf(undefined);
      for (const r of results.filter((r) => r !== undefined)) expect(JSON.parse(r!).token).toBe(`t${winner}`);
    });

    it('complete replaces only its own claim; release deletes only its own claim', async () => {
      const store = make();
      const key = randomUUID();
      await store.claim(key, claimOf('mine'), 60_000);
      expect(await store.complete(key, 'theirs', '{"state":"done"}', 60_000)).toBe(false);
      await store.release(key, 'theirs');
      expect(JSON.parse((await store.get(key))!).token).toBe('mine');
      expect(await store.complete(key, 'mine', '{"state":"done"}', 60_000)).toBe(true);
      expect(await store.get(key)).toBe('{"state":"done"}');
      // A finished record carries no token, so neither a late complete nor a late release touches it.
      expect(await store.complete(key, 'mine', '{"state":"other"}', 60_000)).toBe(false);
      await store.release(key, 'mine');
      expect(await store.get(key)).toBe('{"state":"done"}');

      const key2 = randomUUID();
      await store.claim(key2, claimOf('mine'), 60_000);
      await store.release(key2, 'mine');
      expect(await store.get(key2)).toBeUndefined();
      expect(await store.claim(key2, claimOf('next'), 60_000)).toBeUndefined();
    });

    it('complete still writes when the claim expired and nobody took the key', async () => {
      const store = make();
      const key = randomUUID();
      expect(await store.complete(key, 'late', '{"state":"done"}', 60_000)).toBe(true);
      expect(await store.get(key)).toBe('{"state":"done"}');
    });
  });
}

describe('expiry', () => {
  it('memory: claims and records expire on the injected clock, lazily', async () => {
    const clock = manualClock();
    const store = memoryRecordStore({ clock, maxSize: 1024 * 1024 });
    await store.claim('k', claimOf('a'), 1_000);
    clock.advance(999);
    expect(await store.claim('k', claimOf('b'), 1_000)).toBeDefined();
    clock.advance(1);
    expect(await store.claim('k', claimOf('b'), 1_000)).toBeUndefined();
    await store.put('p', 'v', 5_000);
    clock.advance(5_000);
    expect(await store.get('p')).toBeUndefined();
  });

  it('memory: the byte budget evicts the least recently used records', async () => {
    const store = memoryRecordStore({ clock: manualClock(), maxSize: 4_000 });
    for (let i = 0; i < 20; i++) await store.put(`k${i}`, 'x'.repeat(100), 60_000);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k19')).toBe('x'.repeat(100));
  });

  it('redis: claims carry the lease and records the ttl as PX', async () => {
    const key = randomUUID();
    await redisStore.claim(key, claimOf('a'), 90_000);
    const lease = await admin.pttl(`${prefix}rec:${key}`);
    expect(lease).toBeGreaterThan(85_000);
    expect(lease).toBeLessThanOrEqual(90_000);
    await redisStore.complete(key, 'a', '{}', 4 * 86_400_000);
    expect(await admin.pttl(`${prefix}rec:${key}`)).toBeGreaterThan(4 * 86_400_000 - 5_000);
  });

  it('redis: a store that cannot reach Redis rejects instead of hanging forever', async () => {
    const down = redisRecordStore({ redis: 'redis://127.0.0.1:1', keyPrefix: prefix });
    await expect(down.claim('k', '{}', 1_000)).rejects.toThrow();
    await down.close();
  });
});
