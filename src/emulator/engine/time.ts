/**
 * Time is injected into the engine: every Wait, retry backoff and timeout goes through `sleep`, and every
 * timestamp comes from `clock` (the gateway's `Clock`). Tests use `virtualTime()`, which jumps straight to
 * the next due timer.
 */
import type { Clock } from '../../lib/clock.js';

/** Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Real sleep over `setTimeout`; the timer is cleared on abort so nothing keeps the process alive. */
export const systemSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface VirtualTime {
  clock: Clock;
  sleep: Sleep;
  /**
   * Marks real asynchronous work (a loopback HTTP call, say): virtual time stands still until it settles, so
   * timeouts racing it do not fire early just because nothing else is sleeping.
   */
  hold<T>(work: Promise<T>): Promise<T>;
  /** Wraps a fetch so that each call is held (see `hold`). */
  holdFetch(fetchFn: typeof fetch): typeof fetch;
  /** Timers still waiting; handy for asserting that an execution cleaned up after itself. */
  pendingTimers(): number;
}

interface Timer {
  due: number;
  seq: number;
  resolve(): void;
}

/**
 * A clock plus a sleep that advance instantly: once every ready callback has run (one macrotask later), time
 * jumps to the earliest pending timer and wakes it. Nothing waits in real time.
 */
export function virtualTime(start = 0): VirtualTime {
  let now = start;
  let seq = 0;
  let holds = 0;
  let flushScheduled = false;
  const timers: Timer[] = [];

  const scheduleFlush = () => {
    if (flushScheduled || holds > 0 || timers.length === 0) return;
    flushScheduled = true;
    // A macrotask, so that all microtasks (the engine's own continuations) settle before time moves.
    setTimeout(flush, 0);
  };

  const flush = () => {
    flushScheduled = false;
    if (holds > 0 || timers.length === 0) return;
    timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    const due = timers[0]!.due;
    now = Math.max(now, due);
    const ready = timers.filter((t) => t.due <= now);
    timers.splice(0, ready.length);
    for (const t of ready) t.resolve();
    scheduleFlush();
  };

  const sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        due: now + Math.max(0, ms),
        seq: seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = timers.indexOf(timer);
        if (i >= 0) timers.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(timer);
      scheduleFlush();
    });

  const hold = async <T>(work: Promise<T>): Promise<T> => {
    holds++;
    try {
      return await work;
    } finally {
      holds--;
      scheduleFlush();
    }
  };

  return {
    clock: { now: () => now },
    sleep,
    hold,
    holdFetch: (fetchFn) => ((input: RequestInfo | URL, init?: RequestInit) => hold(fetchFn(input, init))) as typeof fetch,
    pendingTimers: () => timers.length,
  };
}
