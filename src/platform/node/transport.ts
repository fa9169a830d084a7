import { Pool, errors } from 'undici';
import { endpointUrl } from '../../cloudflow/client.js';
import { deadlineSignal, upstreamTimeout, type Transport } from '../../cloudflow/transport.js';

export interface PooledTransport {
  transport: Transport;
  /**
   * Ends the calls still in flight (they reject, not as timeouts) and releases the connections. Called at
   * shutdown, once the server has answered or cut off every request: a call still open then serves no
   * client, and waiting for it (undici's graceful `close`) would hold the process up to `upstream.timeout`
   * past `server.shutdownTimeout`.
   */
  close(): Promise<void>;
}

/**
 * A keep-alive undici pool to the one upstream origin. `Pool.request` skips the WHATWG fetch layer,
 * which is most of the per-call cost of `fetch` on Node.
 */
export interface UndiciTransportOptions {
  connections: number;
  /**
   * Deadlines shorter than this get an exact timer of their own; longer ones use undici's, which
   * tick about once a second. Default 10 s, where that second is at most a tenth of the deadline.
   */
  exactDeadlineBelowMs?: number;
}

export function undiciTransport(origin: string, options: UndiciTransportOptions): PooledTransport {
  const { connections, exactDeadlineBelowMs = 10_000 } = options;
  if (!(Number.isInteger(connections) && connections > 0)) throw new TypeError('connections must be a positive integer');
  if (!(exactDeadlineBelowMs >= 0)) throw new TypeError('exactDeadlineBelowMs must be a number >= 0');
  const prefix = endpointUrl(origin).origin + '/';
  const pool = new Pool(origin, { connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  // Calls in flight, to know when a new one may wait in the pool's queue (see below).
  let inFlight = 0;
  const transport: Transport = async (request) => {
    // The client always calls the pool's own origin: slicing it off is cheaper than parsing a URL per call.
    const path = request.url.startsWith(prefix) ? request.url.slice(prefix.length - 1) : pathOf(request.url);
    const { host: _host, ...headers } = request.headers;
    const timeoutMs = request.timeoutMs;
    // The deadline rides on undici's own per-request timers, which it keeps anyway: a synchronous
    // execution answers only when it ends, so "no headers yet" is the deadline, and a body that then
    // stalls as long is one too. An AbortController and a timer per call cost about 15% of the miss
    // path's CPU. Those timers tick about once a second and start only once the request is on a socket,
    // so a short deadline, or a call that may wait in the queue because every connection is busy,
    // gets an exact timer of its own that covers the wait as well.
    const own = timeoutMs < exactDeadlineBelowMs || inFlight >= connections ? deadlineSignal(timeoutMs, request.signal) : undefined;
    const signal = own ? own.signal : request.signal;
    inFlight++;
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      inFlight--;
      own?.clear();
    };
    try {
      // A Buffer view of the form bytes (no copy): node:net takes a plain Uint8Array through a slower path, which cost
      // the miss path about 9% of its CPU against a Buffer (docs/benchmarks.md, "Large Inputs").
      const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
      const pending = pool.request({ path, method: request.method, headers, body, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      // undici acts on an abort only once a queued request reaches a socket: race the signal so a
      // queued call ends at its deadline (or its caller's cancellation), not when a connection frees up.
      const res = await (own ? own.race(pending) : pending);
      return {
        status: res.statusCode,
        header(name) {
          const value = res.headers[name.toLowerCase()];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        },
        text: () =>
          res.body.text().then(
            (text) => (settle(), text),
            (error: unknown) => {
              settle();
              throw asTimeout(error, timeoutMs, signal);
            },
          ),
      };
    } catch (error) {
      settle();
      throw asTimeout(error, timeoutMs, signal);
    }
  };
  return { transport, close: () => pool.destroy() };
}

function asTimeout(error: unknown, timeoutMs: number, signal: AbortSignal | undefined): unknown {
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) return upstreamTimeout(timeoutMs, error);
  // undici rejects an aborted request with its own error; the signal's reason says whether it was the deadline.
  if (signal?.aborted && signal.reason instanceof Error && signal.reason.name === 'TimeoutError') return signal.reason;
  return error;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}
