import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import { manualClock } from '../../src/lib/clock.js';
import { memoryRateLimitStore } from '../../src/ratelimit/stores/memory.js';
import { rateLimitHeaders, retryAfterSeconds } from '../../src/ratelimit/headers.js';
import { retryAfterMs } from '../../src/ratelimit/gcra.js';
import type { Decision, GcraPolicy, Policy, RateLimitStore } from '../../src/ratelimit/types.js';
import { connectRedis, type RedisConnection } from '../../src/platform/node/redis.js';
import { redisRateLimitStore } from '../../src/ratelimit/stores/redis.node.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

/**
 * The same cases against every store: the memory store and the Redis script must agree to the
 * request and to the millisecond, with an injected clock and no sleeping.
 */
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

function gcra(name: string, key: string, count: number, periodMs: number, burst: number): Policy {
  return { kind: 'gcra', name, key, intervalMs: periodMs / count, burst };
}
function quota(name: string, key: string, limit: number, windowMs: number, now: number): Policy {
  const index = Math.floor(now / windowMs);
  return { kind: 'window', name, key: `${key}:q:${index}`, limit, windowMs, windowEnd: (index + 1) * windowMs };
}

async function decide(store: RateLimitStore, policies: Policy[], now: number): Promise<Decision> {
  const result = await store.check(policies, now);
  if (!result.ok) throw new Error(`store failed: ${result.error} ${result.detail}`);
  return result.value;
}

function contract(name: string, makeStore: () => RateLimitStore) {
  describe(`GCRA contract: ${name}`, () => {
    let store: RateLimitStore;
    let prefix: string;
    beforeAll(() => {
      store = makeStore();
    });
    const key = (k: string) => `${prefix}${k}`;
    const fresh = () => {
      prefix = `test:${randomUUID()}:`;
    };

    it('admits exactly the burst at once, then refuses with the exact wait', async () => {
      fresh();
      const clock = manualClock(T0);
      const caller = gcra('caller', key('c'), 20, 1000, 40); // 20/s, burst 40: one every 50 ms
      const first = await decide(store, [caller], clock.now());
      expect(first).toEqual({ allowed: true, states: [{ name: 'caller', allowed: true, remaining: 39, resetMs: 50, retryAfterMs: 0 }] });
      expect(rateLimitHeaders([caller], first)).toEqual({ 'ratelimit-policy': '"caller";q=40;w=2', ratelimit: '"caller";r=39;t=1' });
      for (let i = 2; i <= 40; i++) {
        const d = await decide(store, [caller], clock.now());
        expect(d.allowed).toBe(true);
        expect(d.states[0]!.remaining).toBe(40 - i);
      }
      const last = await decide(store, [caller], clock.now());
      expect(last).toEqual({ allowed: false, states: [{ name: 'caller', allowed: false, remaining: 0, resetMs: 2000, retryAfterMs: 50 }] });
      expect(retryAfterSeconds(retryAfterMs(last))).toBe('1');
      expect(rateLimitHeaders([caller], last).ratelimit).toBe('"caller";r=0;t=1');
    });

    it('admits the steady rate after the burst and refuses anything faster', async () => {
      fresh();
      const clock = manualClock(T0);
      const caller = gcra('caller', key('c'), 20, 1000, 40);
      for (let i = 0; i < 40; i++) expect((await decide(store, [caller], clock.now())).allowed).toBe(true);
      for (let step = 0; step < 10; step++) {
        clock.advance(49);
        const early = await decide(store, [caller], clock.now());
        expect(early.allowed).toBe(false);
        expect(early.states[0]!.retryAfterMs).toBe(1);
        clock.advance(1);
        const onTime = await decide(store, [caller], clock.now());
        expect(onTime.allowed).toBe(true);
        expect(onTime.states[0]!.remaining).toBe(0);
        expect((await decide(store, [caller], clock.now())).allowed).toBe(false);
      }
    });

    it('refills the whole burst after burst × interval, and no more', async () => {
      fresh();
      const clock = manualClock(T0);
      const caller = gcra('caller', key('c'), 20, 1000, 40);
      for (let i = 0; i < 40; i++) await decide(store, [caller], clock.now());
      clock.advance(1000); // half refilled
      const half = await decide(store, [caller], clock.now());
      expect(half.states[0]).toMatchObject({ allowed: true, remaining: 19, resetMs: 1050 });
      clock.advance(10_000); // long idle: capped at the burst
      let admitted = 0;
      while ((await decide(store, [caller], clock.now())).allowed) admitted++;
      expect(admitted).toBe(40);
    });

    it('keeps fractional intervals exact (30/s, burst 1: one every 33⅓ ms)', async () => {
      fresh();
      const clock = manualClock(T0);
      const p = gcra('flow', key('f'), 30, 1000, 1);
      const admittedAt: number[] = [];
      for (let ms = 0; ms < 200; ms++) {
        if ((await decide(store, [p], clock.now())).allowed) admittedAt.push(ms);
        clock.advance(1);
      }
      // With burst 1 a late request earns no credit for its lateness: each waits 33⅓ ms after the last, rounded up to the next tick.
      expect(admittedAt).toEqual([0, 34, 68, 102, 136, 170]);
    });

    it('keeps a TAT exact, so a burst of fractional intervals is admitted whole (128/s, burst 4: one every 7.8125 ms)', async () => {
      fresh();
      const clock = manualClock(T0);
      const p = gcra('caller', key('c'), 128, 1000, 4);
      // Rounded to three decimals, 7.8125 ms became 7.813 in memory and 7.812 in Redis (C rounds the tie to
      // even): memory refused the fourth request of a full bucket.
      for (const remaining of [3, 2, 1, 0]) expect((await decide(store, [p], clock.now())).states[0]).toMatchObject({ allowed: true, remaining });
      expect((await decide(store, [p], clock.now())).states[0]).toEqual({ name: 'caller', allowed: false, remaining: 0, resetMs: 32, retryAfterMs: 8 });
    });

    it('computes a wait from the exact TAT (fast-check seed 1594078293: memory said 8000 ms where Redis said 7999)', async () => {
      fresh();
      const clock = manualClock(T0 + 1);
      // A TAT of T0 + 1 + 60000/7 ms (…8572.42857…), which Redis stored as …572.428 and memory as …572.429.
      const slow = gcra('g', key('g'), 7, 60_000, 1);
      expect((await decide(store, [slow, quota('w', key('w'), 1, 10_000, clock.now())], clock.now())).allowed).toBe(true);
      clock.advance(1);
      // The same key at 7/s, burst 5: the wait is TAT + 1000/7 − 5 × 1000/7 − now = 1 + 56000/7 − 2 = 7999 ms exactly.
      const fast = gcra('g', key('g'), 7, 1_000, 5);
      expect(await decide(store, [fast], clock.now())).toEqual({
        allowed: false,
        states: [{ name: 'g', allowed: false, remaining: 0, resetMs: 8571, retryAfterMs: 7999 }],
      });
    });

    it('decides a request whose now is behind its key at the key’s time: each remaining count is reported once', async () => {
      fresh();
      const caller = gcra('caller', key('c'), 1, 3_600_000, 50); // 1/h, burst 50
      // Three gateways: the second request's now was taken 1 ms before the first's (a clock behind, or a
      // request that reached Redis after one taken later). Decided at its own now it saw 1 ms less refill
      // and reported r=47, like the third: two 47s and no 48, as three processes on one Redis did.
      expect((await decide(store, [caller], T0 + 1)).states[0]).toEqual({ name: 'caller', allowed: true, remaining: 49, resetMs: 3_600_000, retryAfterMs: 0 });
      expect((await decide(store, [caller], T0)).states[0]).toEqual({ name: 'caller', allowed: true, remaining: 48, resetMs: 7_200_000, retryAfterMs: 0 });
      expect((await decide(store, [caller], T0 + 1)).states[0]).toEqual({ name: 'caller', allowed: true, remaining: 47, resetMs: 10_800_000, retryAfterMs: 0 });
      // The key's time is the latest decision's, not the latest now seen: later requests still refill from theirs.
      expect((await decide(store, [caller], T0 + 3_600_001)).states[0]).toMatchObject({ allowed: true, remaining: 47 });
    });

    it('decides every policy of a request at the latest time of any of its keys, and a refusal does not move it', async () => {
      fresh();
      const day = 86_400_000;
      const rate = gcra('caller', key('c'), 1, 1_000, 1);
      const q = (now: number) => quota('quota', key('c'), 5, day, now);
      expect((await decide(store, [rate, q(T0 + 10)], T0 + 10)).states[1]).toMatchObject({ remaining: 4, resetMs: 12 * 3_600_000 - 10 });
      // Behind by 10 ms: the quota's reset counts from the rate key's time, and the wait too.
      expect(await decide(store, [rate, q(T0)], T0)).toEqual({
        allowed: false,
        states: [
          { name: 'caller', allowed: false, remaining: 0, resetMs: 1_000, retryAfterMs: 1_000 },
          { name: 'quota', allowed: true, remaining: 4, resetMs: 12 * 3_600_000 - 10, retryAfterMs: 0 },
        ],
      });
      // A refusal at a later time writes nothing, so it does not move the keys' time.
      expect((await decide(store, [rate, q(T0 + 500)], T0 + 500)).states[0]).toMatchObject({ allowed: false, retryAfterMs: 510 });
      expect((await decide(store, [q(T0)], T0)).states[0]).toEqual({
        name: 'quota',
        allowed: true,
        remaining: 3,
        resetMs: 12 * 3_600_000 - 10,
        retryAfterMs: 0,
      });
    });

    it('all or nothing: a refusal by one policy consumes none of the others', async () => {
      fresh();
      const clock = manualClock(T0);
      const caller = gcra('caller', key('c'), 20, 1000, 40);
      const flow = gcra('flow', key('c:flow:hello'), 5, 1000, 10); // one every 200 ms
      for (let i = 0; i < 10; i++) expect((await decide(store, [caller, flow], clock.now())).allowed).toBe(true);
      const refused = await decide(store, [caller, flow], clock.now());
      expect(refused).toEqual({
        allowed: false,
        states: [
          { name: 'caller', allowed: true, remaining: 30, resetMs: 500, retryAfterMs: 0 },
          { name: 'flow', allowed: false, remaining: 0, resetMs: 2000, retryAfterMs: 200 },
        ],
      });
      expect(rateLimitHeaders([caller, flow], refused)).toEqual({
        'ratelimit-policy': '"caller";q=40;w=2, "flow";q=10;w=2',
        ratelimit: '"caller";r=30;t=1, "flow";r=0;t=1',
      });
      // Refused requests left the caller-wide bucket untouched: 30 remain for other flows.
      let other = 0;
      while ((await decide(store, [caller], clock.now())).allowed) other++;
      expect(other).toBe(30);
    });

    it('a daily quota refuses until the UTC day ends and is not consumed by refusals', async () => {
      fresh();
      const clock = manualClock(T0);
      const day = 86_400_000;
      const rate = gcra('caller', key('c'), 1, 1000, 2);
      const q = () => quota('quota', key('c'), 3, day, clock.now());
      expect((await decide(store, [rate, q()], clock.now())).allowed).toBe(true);
      expect((await decide(store, [rate, q()], clock.now())).allowed).toBe(true);
      const byRate = await decide(store, [rate, q()], clock.now());
      expect(byRate.allowed).toBe(false);
      expect(byRate.states[1]).toEqual({ name: 'quota', allowed: true, remaining: 1, resetMs: 12 * 3_600_000, retryAfterMs: 0 });
      clock.advance(5_000);
      const third = await decide(store, [rate, q()], clock.now());
      expect(third.states[1]).toMatchObject({ allowed: true, remaining: 0 });
      clock.advance(5_000);
      const over = await decide(store, [rate, q()], clock.now());
      const untilMidnight = 12 * 3_600_000 - 10_000;
      expect(over).toMatchObject({ allowed: false, states: [{ allowed: true }, { name: 'quota', allowed: false, remaining: 0, retryAfterMs: untilMidnight }] });
      expect(retryAfterSeconds(retryAfterMs(over))).toBe(String(untilMidnight / 1000));
      expect(rateLimitHeaders([rate, q()], over)['ratelimit-policy']).toBe('"caller";q=2;w=2, "quota";q=3;w=86400');
      clock.set(Date.UTC(2024, 0, 2)); // a new day, a new window
      expect((await decide(store, [rate, q()], clock.now())).states[1]).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('keeps callers apart', async () => {
      fresh();
      const clock = manualClock(T0);
      const a = gcra('caller', key('a'), 1, 60_000, 1);
      const b = gcra('caller', key('b'), 1, 60_000, 1);
      expect((await decide(store, [a], clock.now())).allowed).toBe(true);
      expect((await decide(store, [a], clock.now())).allowed).toBe(false);
      expect((await decide(store, [b], clock.now())).allowed).toBe(true);
    });

    it('a peek answers whether one more would fit and spends nothing', async () => {
      fresh();
      const clock = manualClock(T0);
      const spend: GcraPolicy = { kind: 'gcra', name: 'auth-failures', key: key('f'), intervalMs: 6_000, burst: 2 };
      const peek: Policy = { ...spend, peek: true };
      for (let i = 0; i < 5; i++) {
        expect(await decide(store, [peek], clock.now())).toEqual({
          allowed: true,
          states: [{ name: 'auth-failures', allowed: true, remaining: 2, resetMs: 0, retryAfterMs: 0 }],
        });
      }
      expect((await decide(store, [spend], clock.now())).states[0]!.remaining).toBe(1);
      expect((await decide(store, [peek], clock.now())).states[0]).toMatchObject({ allowed: true, remaining: 1, resetMs: 6000 });
      expect((await decide(store, [spend], clock.now())).states[0]!.remaining).toBe(0);
      // Empty: the peek refuses with the wait, and refusing spends nothing either.
      for (let i = 0; i < 3; i++) {
        expect(await decide(store, [peek], clock.now())).toEqual({
          allowed: false,
          states: [{ name: 'auth-failures', allowed: false, remaining: 0, resetMs: 12000, retryAfterMs: 6000 }],
        });
      }
      clock.advance(6_000);
      expect((await decide(store, [peek], clock.now())).states[0]).toMatchObject({ allowed: true, remaining: 1 });
      expect((await decide(store, [peek], clock.now())).states[0]).toMatchObject({ allowed: true, remaining: 1 });
      expect((await decide(store, [spend], clock.now())).states[0]).toMatchObject({ allowed: true, remaining: 0 });
      expect((await decide(store, [peek], clock.now())).allowed).toBe(false);
    });
  });
}

contract('memory', () => memoryRateLimitStore());

let connection: RedisConnection;
contract('redis', () => {
  connection = connectRedis(REDIS_URL, { timeoutMs: 2_000, log: () => {} });
  return redisRateLimitStore(connection.redis, { ready: connection.ready, timeoutMs: 2_000 });
});
afterAll(async () => {
  await connection?.close();
});

describe('memory and Redis agree on any sequence of decisions', () => {
  let redisStore: RateLimitStore;
  let own: RedisConnection;
  beforeAll(() => {
    own = connectRedis(REDIS_URL, { timeoutMs: 2_000, log: () => {} });
    redisStore = redisRateLimitStore(own.redis, { ready: own.ready, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await own?.close();
  });

  // Three keys shared by random policies of every kind, fractional intervals included, at random times.
  const policy = fc.oneof(
    fc.record({
      kind: fc.constant('gcra' as const),
      k: fc.integer({ min: 0, max: 2 }),
      count: fc.integer({ min: 1, max: 40 }),
      periodMs: fc.constantFrom(1_000, 3_000, 60_000),
      burst: fc.integer({ min: 1, max: 5 }),
      peek: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('window' as const),
      k: fc.integer({ min: 0, max: 2 }),
      limit: fc.integer({ min: 1, max: 4 }),
      windowMs: fc.constantFrom(10_000, 86_400_000),
    }),
  );
  const step = fc.record({
    // Now and then a request whose now is behind the last one's (another gateway's clock, or overtaken on the way).
    advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: -50, max: -1 })),
    policies: fc.array(policy, { minLength: 1, maxLength: 3 }),
  });

  it('gives the same decision, state by state, for every request', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const run = `test:${randomUUID()}:`;
        const memory = memoryRateLimitStore();
        let now = T0;
        for (const { advanceMs, policies } of steps) {
          now += advanceMs;
          // One policy per key and kind in a request, as the resolver builds them.
          const seen = new Set<string>();
          const built: Policy[] = [];
          for (const p of policies) {
            const name = `${p.kind}-${p.k}`;
            if (seen.has(name)) continue;
            seen.add(name);
            built.push(
              p.kind === 'gcra'
                ? { ...gcra(name, `${run}g${p.k}`, p.count, p.periodMs, p.burst), ...(p.peek ? { peek: true } : {}) }
                : quota(name, `${run}w${p.k}`, p.limit, p.windowMs, now),
            );
          }
          expect(await decide(redisStore, built, now)).toEqual(await decide(memory, built, now));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('memory store bounds', () => {
  it('evicts the least recently used key beyond maxKeys', async () => {
    const store = memoryRateLimitStore({ maxKeys: 2 });
    const p = (k: string) => gcra('caller', k, 1, 60_000, 1);
    await decide(store, [p('a')], T0);
    await decide(store, [p('b')], T0);
    await decide(store, [p('c')], T0); // evicts a
    expect((await decide(store, [p('a')], T0)).allowed).toBe(true);
    expect((await decide(store, [p('c')], T0)).allowed).toBe(false);
  });

  it('rejects bad options at construction', () => {
    expect(() => memoryRateLimitStore({ maxKeys: 0 })).toThrow(TypeError);
  });
});
