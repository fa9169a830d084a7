import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPolicy, gcra, type GcraPolicy } from '../../src/runtime/workers-gcra.js';

const T0 = Date.UTC(2024, 0, 1);

/** Applies a sequence of requests at the given times, as the Durable Object does with its stored TAT. */
function replay(policy: GcraPolicy, times: number[]) {
  let tat: number | undefined;
  return times.map((now) => {
    const step = gcra(tat, now, policy);
    tat = step.tat;
    return step.decision;
  });
}

describe('GCRA arithmetic of the Durable Object counters', () => {
  const policy: GcraPolicy = { key: 'k', count: 10, periodMs: 1000, burst: 3 };

  it('allows the burst at once, then one per emission interval', () => {
    const decisions = replay(policy, [T0, T0, T0, T0]);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]).toMatchObject({ limit: 3, retryAfterMs: 100, resetMs: 300 });
    // 100 ms later exactly one unit has come back.
    const later = gcra(T0 + 300, T0 + 100, policy);
    expect(later.decision).toMatchObject({ allowed: true, remaining: 0, resetMs: 300 });
  });

  it('a refusal leaves the stored state unchanged', () => {
    const full = gcra(T0 + 300, T0, policy);
    expect(full.decision.allowed).toBe(false);
    expect(full.tat).toBe(T0 + 300);
  });

  it('an idle counter is full again after burst × interval', () => {
    const decisions = replay(policy, [T0, T0, T0, T0 + 300]);
    expect(decisions[3]).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('counts whole units with fractional intervals (1000 ms / 3)', () => {
    const decisions = replay({ key: 'k', count: 3, periodMs: 1000, burst: 3 }, [T0, T0, T0, T0]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
  });

  it('never allows more than burst + elapsed/interval requests (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (count, burst, gaps) => {
          const p: GcraPolicy = { key: 'k', count, periodMs: 1000, burst };
          let now = T0;
          const times = gaps.map((gap) => (now += gap));
          const decisions = replay(p, times);
          const allowed = decisions.filter((d) => d.allowed).length;
          const elapsed = times.at(-1)! - T0;
          expect(allowed).toBeLessThanOrEqual(burst + Math.floor((elapsed * count) / 1000) + 1);
          for (const d of decisions) expect(d.remaining).toBeGreaterThanOrEqual(0);
          for (const d of decisions) expect(d.remaining).toBeLessThan(burst);
        },
      ),
    );
  });

  it('refuses malformed policies', () => {
    expect(() => checkPolicy({ key: '', count: 1, periodMs: 1, burst: 1 })).toThrow(/key/);
    expect(() => checkPolicy({ key: 'k', count: Number.NaN, periodMs: 1, burst: 1 })).toThrow(/count/);
    expect(() => checkPolicy({ key: 'k', count: 1, periodMs: 1, burst: 0 })).toThrow(/burst/);
    expect(() => checkPolicy({ key: 'k', count: 1, periodMs: 1, burst: 1, cost: 0 })).toThrow(/cost/);
    expect(() => checkPolicy({ key: 'k', count: 1, periodMs: 1000, burst: 2 })).not.toThrow();
  });
});
