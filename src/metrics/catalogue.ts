/**
 * The series flowgate exposes, shared by both implementations so Node and Workers agree on names, help, labels
 * and buckets. Names follow the Prometheus naming conventions (https://prometheus.io/docs/practices/naming/):
 * a `flowgate_` prefix, `_total` for counters, base units (`_seconds`).
 */
import type { Counters } from '../lib/counters.js';
import type { AccessLogEntry } from '../log.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upstream latency buckets, in seconds: CloudFlow Express calls take milliseconds to the 5-minute cap. */
export const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const SERIES = {
  requests: {
    name: 'flowgate_requests_total',
    help: 'Requests answered, by exposed flow ("" for other routes) and status class.',
    labelNames: ['flow', 'status_class'],
  },
  inFlight: { name: 'flowgate_requests_in_flight', help: 'Requests being answered now.', labelNames: [] },
  upstream: { name: 'flowgate_upstream_duration_seconds', help: 'Time of each StartSyncExecution call, by exposed flow.', labelNames: ['flow'] },
  cache: {
    name: 'flowgate_cache_outcomes_total',
    help: 'Response cache outcomes (hit, miss, stale, bypass, collapsed), by exposed flow.',
    labelNames: ['flow', 'outcome'],
  },
  idempotency: {
    name: 'flowgate_idempotency_outcomes_total',
    help: 'Idempotency-Key and delivery de-duplication outcomes (new, replayed, in-flight, mismatch, bypass), by exposed flow.',
    labelNames: ['flow', 'outcome'],
  },
  rateLimit: { name: 'flowgate_rate_limit_decisions_total', help: 'Rate-limit decisions of this gateway: allowed or refused (429).', labelNames: ['decision'] },
  rateLimitStoreErrors: {
    name: 'flowgate_rate_limit_store_errors_total',
    help: 'Rate-limit store failures, by what storeOptions.onError made of them (open: served, closed: 503).',
    labelNames: ['on_error'],
  },
  authFailures: {
    name: 'flowgate_auth_failures_refused_total',
    help: 'Requests refused (429) for too many failed authentications from one address.',
    labelNames: [],
  },
  credentials: {
    name: 'flowgate_credential_refreshes_total',
    help: 'Upstream credential refreshes (ok, failed), and calls CloudFlow refused as expired (expired).',
    labelNames: ['outcome'],
  },
} as const;

/** The named counters (`deps.counters`) each labelled series reads, as `[series, labels, counter name]`. */
export const FROM_COUNTERS: [keyof typeof SERIES, Record<string, string>, string][] = [
  ['rateLimit', { decision: 'allowed' }, 'ratelimit.allowed'],
  ['rateLimit', { decision: 'refused' }, 'ratelimit.refused'],
  ['rateLimitStoreErrors', { on_error: 'open' }, 'ratelimit.failed_open'],
  ['rateLimitStoreErrors', { on_error: 'closed' }, 'ratelimit.failed_closed'],
  ['authFailures', {}, 'auth_failures.refused'],
  ['credentials', { outcome: 'ok' }, 'credentials.refreshes'],
  ['credentials', { outcome: 'failed' }, 'credentials.refresh_failures'],
  ['credentials', { outcome: 'expired' }, 'credentials.expired'],
];

/** A status as its class label: `2xx` … `5xx`. */
export function statusClass(status: number | undefined): string {
  return status === undefined ? 'unknown' : `${Math.floor(status / 100)}xx`;
}

/** The counted value of a named counter. */
export const counted = (counters: Counters, name: string): number => counters[name] ?? 0;

/** What one finished request adds: the series and label values each event goes to. */
export function requestEvents(entry: AccessLogEntry): { flow: string; statusClass: string; cache?: string; idempotency?: string; upstreamSeconds?: number } {
  return {
    flow: entry.flow ?? '',
    statusClass: statusClass(entry.status),
    // A purge writes its outcome in the same field; it is not a lookup.
    ...(entry.cache !== undefined && entry.cache !== 'purged' && entry.cache !== 'none' ? { cache: entry.cache } : {}),
    ...(entry.idempotency !== undefined ? { idempotency: entry.idempotency } : {}),
    ...(entry.upstreamMs !== undefined ? { upstreamSeconds: entry.upstreamMs / 1000 } : {}),
  };
}
