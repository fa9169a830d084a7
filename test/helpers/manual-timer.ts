import type { Timer } from '../../src/lib/single-flight.js';

/** A Timer that fires only when the test says so, with the delays it was armed for. */
export function manualTimer() {
  const armed = new Set<{ ms: number; fire: () => void }>();
  const waiting = new Set<{ count: number; resolve: () => void }>();
  const changed = () => {
    for (const waiter of waiting) {
      if (armed.size !== waiter.count) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  };
  const timer: Timer = (ms) => {
    let fire!: () => void;
    const done = new Promise<void>((resolve) => (fire = resolve));
    const entry = { ms, fire };
    armed.add(entry);
    changed();
    return {
      done,
      cancel: () => {
        armed.delete(entry);
        changed();
      },
    };
  };
  return {
    timer,
    /** The delays of the timers still armed (neither fired nor cancelled). */
    armed: () => [...armed].map((entry) => entry.ms),
    /** Resolves once exactly `count` timers are armed (at once if they are): the code under test has got that far. */
    untilArmed(count: number): Promise<void> {
      if (armed.size === count) return Promise.resolve();
      return new Promise((resolve) => waiting.add({ count, resolve }));
    },
    fireAll() {
      const all = [...armed];
      armed.clear();
      for (const entry of all) entry.fire();
      changed();
    },
  };
}
