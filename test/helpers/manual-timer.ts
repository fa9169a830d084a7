import type { Timer } from '../../src/lib/single-flight.js';

/** A Timer that fires only when the test says so, with the delays it was armed for. */
export function manualTimer() {
  const armed = new Set<{ ms: number; fire: () => void }>();
  const timer: Timer = (ms) => {
    let fire!: () => void;
    const done = new Promise<void>((resolve) => (fire = resolve));
    const entry = { ms, fire };
    armed.add(entry);
    return { done, cancel: () => armed.delete(entry) };
  };
  return {
    timer,
    /** The delays of the timers still armed (neither fired nor cancelled). */
    armed: () => [...armed].map((entry) => entry.ms),
    fireAll() {
      const all = [...armed];
      armed.clear();
      for (const entry of all) entry.fire();
    },
  };
}
