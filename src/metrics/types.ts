import type { AccessLogEntry } from '../log.js';

/**
 * The metrics port: what the request path reports, and the Prometheus text exposition (format 0.0.4) that
 * `GET /metrics` serves. prom-client on Node (platform/node/metrics.ts), a hand-written registry on Workers
 * (metrics/plain.ts, per isolate). Both expose the series of metrics/catalogue.ts.
 */
export interface Metrics {
  /** A request entered the gateway (the in-flight gauge goes up). */
  started(): void;
  /**
   * A request was answered: its access-log entry says the flow, status, cache and Idempotency-Key outcomes
   * and the upstream time. Called once per `started()`.
   */
  finished(entry: AccessLogEntry): void;
  /** The exposition text, the named counters (`deps.counters`) read at this moment. */
  render(): Promise<string>;
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
}
