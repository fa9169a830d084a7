import type { Bytes } from '../lib/bytes.js';

/**
 * The outbound HTTP hop, injected so the client runs anywhere: an undici pool on Node, global
 * `fetch` on Workers, a loopback server in tests. Narrower than fetch on purpose: the client only
 * ever sends one small form POST and reads one small JSON answer.
 */
export interface UpstreamRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  /** The form body, as UTF-8 bytes. */
  body: Bytes;
  /**
   * The deadline, in ms, for the answer (a synchronous execution answers only when it ends). The
   * transport enforces it and rejects with an error named `TimeoutError` once it passes: on Node
   * undici's own per-request timers do this, so a call costs no AbortController and no extra timer.
   */
  timeoutMs: number;
  /** The caller's cancellation, when there is one. */
  signal?: AbortSignal | undefined;
}

export interface UpstreamResponse {
  status: number;
  header(name: string): string | null;
  text(): Promise<string>;
}

/** The caller reads `text()` exactly once: that ends the call and frees what it holds. */
export type Transport = (request: UpstreamRequest) => Promise<UpstreamResponse>;

/** The error a transport rejects with when the deadline passes; the same name as `AbortSignal.timeout`'s. */
export function upstreamTimeout(timeoutMs: number, cause?: unknown): Error {
  const error = new Error(`no answer within ${timeoutMs} ms`, cause === undefined ? undefined : { cause });
  error.name = 'TimeoutError';
  return error;
}

export interface Deadline {
  signal: AbortSignal;
  /** Settles with `work`, or rejects with the signal's reason as soon as it aborts, whichever is first. */
  race<T>(work: Promise<T>): Promise<T>;
  /** Releases the timer and the listener on the caller's signal. */
  clear(): void;
}

/** A signal that aborts at the deadline (with an `upstreamTimeout` error) or with the caller's signal. */
export function deadlineSignal(timeoutMs: number, caller: AbortSignal | undefined): Deadline {
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(() => controller.abort(upstreamTimeout(timeoutMs)), timeoutMs);
  const onCallerAbort = () => controller.abort(caller?.reason);
  caller?.addEventListener('abort', onCallerAbort, { once: true });
  if (caller?.aborted) onCallerAbort();
  return {
    signal,
    race(work) {
      if (signal.aborted) {
        work.catch(() => {});
        return Promise.reject(signal.reason as Error);
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          // What the work settles with later (its own abort error, usually) has no one left to see it.
          work.catch(() => {});
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(
          (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
          (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error as Error)),
        );
      });
    },
    clear() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    },
  };
}

export function fetchTransport(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Transport {
  return async (request) => {
    // The deadline covers the body read too.
    const deadline = deadlineSignal(request.timeoutMs, request.signal);
    const { signal } = deadline;
    try {
      const res = await fetchImpl(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
      return {
        status: res.status,
        header: (name) => res.headers.get(name),
        text: () =>
          res.text().then(
            (text) => (deadline.clear(), text),
            (error: unknown) => {
              deadline.clear();
              throw signal.aborted ? signal.reason : error;
            },
          ),
      };
    } catch (error) {
      deadline.clear();
      // fetch rejects with the signal's reason on abort; make sure that is what the caller sees.
      throw signal.aborted ? signal.reason : error;
    }
  };
}
