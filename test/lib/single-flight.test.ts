/** Single flight that hands waiters the settled outcome, never the loader's promise. */
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { singleFlight } from '../../src/lib/single-flight.js';
import { manualTimer } from '../helpers/manual-timer.js';

/** A load the test settles by hand, counting how many were started. */
function loads<T>() {
  const started: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const load = () => new Promise<T>((resolve, reject) => started.push({ resolve, reject }));
  return { load, started };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('singleFlight', () => {
  it('concurrent callers share one load and its value; their timers are cancelled', async () => {
    const clock = manualClock();
    const timers = manualTimer();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: timers.timer });
    const { load, started } = loads<string>();
    const answers = Promise.all([1, 2, 3, 4].map(() => flight.run('k', load)));
    await flush();
    expect(started).toHaveLength(1);
    expect(timers.armed()).toEqual([1_000, 1_000, 1_000]);
    started[0]!.resolve('keys');
    expect(await answers).toEqual(['keys', 'keys', 'keys', 'keys']);
    expect(timers.armed()).toEqual([]);
  });

  it('a load that never settles (its request was cancelled) holds the others only until its lease ends; then one of them loads', async () => {
    const clock = manualClock();
    const timers = manualTimer();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: timers.timer });
    const { load, started } = loads<string>();
    void flight.run('k', load); // the cancelled request: its load is never settled
    clock.advance(400);
    const waiting = Promise.all([1, 2, 3].map(() => flight.run('k', load)));
    await flush();
    expect(timers.armed()).toEqual([600, 600, 600]); // what is left of the first load's lease
    clock.advance(600);
    timers.fireAll();
    await flush();
    expect(started).toHaveLength(2); // one new load for three waiters, not three
    started[1]!.resolve('fresh');
    expect(await waiting).toEqual(['fresh', 'fresh', 'fresh']);
  });

  it('while no load settles, one starts per lease, not one per waiter: a waiter whose second lease runs out loads once more', async () => {
    const clock = manualClock();
    const timers = manualTimer();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: timers.timer });
    const { load, started } = loads<string>();
    void flight.run('k', load); // the cancelled request: its load is never settled
    const waiting = Promise.all([1, 2, 3].map(() => flight.run('k', load)));
    await timers.untilArmed(3);
    clock.advance(1_000);
    timers.fireAll();
    await timers.untilArmed(2);
    // One waiter loads; the other two wait a whole lease for it.
    expect(started).toHaveLength(2);
    expect(timers.armed()).toEqual([1_000, 1_000]);
    clock.advance(1_000); // that load has not settled either (a slow key server, or its request gone too)
    timers.fireAll();
    await timers.untilArmed(1);
    expect(started).toHaveLength(3); // one more load for the two, not two
    expect(timers.armed()).toEqual([1_000]);
    started[2]!.resolve('third');
    started[1]!.resolve('second');
    expect(await waiting).toEqual(['second', 'third', 'third']);
    expect(started).toHaveLength(3);
  });

  it('a caller that arrives after the lease loads at once', async () => {
    const clock = manualClock();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: manualTimer().timer });
    const { load, started } = loads<string>();
    void flight.run('k', load);
    clock.advance(1_000);
    const late = flight.run('k', load);
    await flush();
    expect(started).toHaveLength(2);
    started[1]!.resolve('late');
    expect(await late).toBe('late');
  });

  it('hands the error to the waiters, keeps nothing, and the next call loads again', async () => {
    const clock = manualClock();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: manualTimer().timer });
    const { load, started } = loads<string>();
    const both = Promise.allSettled([flight.run('k', load), flight.run('k', load)]);
    await flush();
    started[0]!.reject(new Error('issuer down'));
    expect((await both).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual(['issuer down', 'issuer down']);
    const next = flight.run('k', load);
    await flush();
    expect(started).toHaveLength(2);
    started[1]!.resolve('back');
    expect(await next).toBe('back');
  });

  it('keys are independent', async () => {
    const clock = manualClock();
    const flight = singleFlight<string>({ clock, leaseMs: 1_000, timer: manualTimer().timer });
    const { load, started } = loads<string>();
    const a = flight.run('a', load);
    const b = flight.run('b', load);
    await flush();
    expect(started).toHaveLength(2);
    started[0]!.resolve('A');
    started[1]!.resolve('B');
    expect([await a, await b]).toEqual(['A', 'B']);
  });

  it('refuses a lease that is not positive', () => {
    expect(() => singleFlight({ clock: manualClock(), leaseMs: 0 })).toThrow(/leaseMs/);
  });
});
