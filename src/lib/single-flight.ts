import type { Clock } from './clock.js';

/** A timer of the waiting request's own: `done` resolves after `ms` unless cancelled first. */
export type Timer = (ms: number) => { done: Promise<void>; cancel(): void };

export const realTimer: Timer = (ms) => {
  let id: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<void>((resolve) => {
    id = setTimeout(resolve, ms);
  });
  return {
    done,
    cancel: () => {
      if (id !== undefined) clearTimeout(id);
    },
  };
};

/**
 * Waits for an outcome that another request will hand over, for at most `ms`: the waiter adds a resolver
 * of a promise of its own to `waiters`, the leading request calls every resolver with the settled outcome,
 * and the waiter's own timer resolves it with undefined when the wait runs out. The waiter never awaits a
 * promise another request created (see singleFlight for why that matters on Workers).
 */
export async function awaitHandOff<T>(waiters: Set<(outcome: T | undefined) => void>, ms: number, timer: Timer): Promise<T | undefined> {
  let settle!: (outcome: T | undefined) => void;
  const own = new Promise<T | undefined>((resolve) => (settle = resolve));
  const lease = timer(ms);
  waiters.add(settle);
  void lease.done.then(() => settle(undefined));
  try {
    return await own;
  } finally {
    waiters.delete(settle);
    lease.cancel();
  }
}

export interface SingleFlightOptions {
  clock: Clock;
  /**
   * How long callers wait for a load that another caller started before loading themselves, in ms,
   * counted from its start. At most one load per key starts per lease while none settles.
   */
  leaseMs: number;
  timer?: Timer;
}

export interface SingleFlight<T> {
  /**
   * Runs `load`, unless a load of `key` started less than `leaseMs` ago is still in flight: then waits
   * for its outcome (its value, or its error thrown here) until that lease ends, and loads itself if
   * none came. Never returns or awaits a promise that another caller created.
   */
  run(key: string, load: () => Promise<T>): Promise<T>;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Flight<T> {
  startedAt: number;
  /** Resolvers of the waiters' own promises; the loader hands each the settled outcome. */
  waiters: Set<(outcome: Outcome<T> | undefined) => void>;
}

/**
 * Single flight that shares settled outcomes only, never an in-flight promise.
 *
 * On Cloudflare Workers, I/O belongs to the request that started it: when that request is cancelled
 * (its client went away), its I/O is cancelled too, and a promise that other requests awaited never
 * settles, so they hang. Here a waiter awaits a promise it created itself, which the loading caller
 * resolves with the outcome (workerd runs that continuation in the waiter's own request, see its
 * `handle_cross_request_promise_resolution` compatibility flag, on by default since 2024-10-14), and
 * its own timer ends the wait when the lease runs out. So a cancelled request delays the others by at
 * most `leaseMs`, and a burst still makes one load per lease instead of one per request. On Node it
 * behaves as the usual shared promise, at the cost of one timer per waiter.
 */
export function singleFlight<T>(options: SingleFlightOptions): SingleFlight<T> {
  const { clock, leaseMs, timer = realTimer } = options;
  if (!(leaseMs > 0)) throw new TypeError('leaseMs must be a positive number of milliseconds');
  const flights = new Map<string, Flight<T>>();

  async function lead(key: string, load: () => Promise<T>): Promise<T> {
    const flight: Flight<T> = { startedAt: clock.now(), waiters: new Set() };
    flights.set(key, flight);
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await load() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (flights.get(key) === flight) flights.delete(key);
    for (const settle of flight.waiters) settle(outcome);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  return {
    async run(key, load) {
      for (;;) {
        const flight = flights.get(key);
        const left = flight ? flight.startedAt + leaseMs - clock.now() : 0;
        if (!flight || left <= 0) return lead(key, load);
        const outcome = await awaitHandOff(flight.waiters, left, timer);
        if (outcome?.ok) return outcome.value;
        if (outcome) throw outcome.error;
        // The lease ran out: its caller may be gone. The first waiter to notice loads; the rest wait for it.
        if (flights.get(key) === flight) flights.delete(key);
      }
    },
  };
}
