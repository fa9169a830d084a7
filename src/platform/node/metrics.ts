/**
 * The metrics port on Node with prom-client (the Prometheus client for Node.js), in a registry of the gateway's
 * own rather than prom-client's global one, so an application embedding flowgate keeps its registry to itself.
 * The request path touches only label children cached by label values (one Map lookup and an add); the named
 * counters are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Counters } from '../../lib/counters.js';
import type { AccessLogEntry } from '../../log.js';
import { counted, FROM_COUNTERS, requestEvents, SERIES, UPSTREAM_BUCKETS } from '../../metrics/catalogue.js';
import type { Metrics } from '../../metrics/types.js';

export interface NodeMetrics extends Metrics {
  /** The prom-client registry, for adding the process's default metrics or merging with an application's own. */
  registry: Registry;
}

/** Children of `metric` by their label values, made once: prom-client hashes the labels on every `inc` otherwise. */
function children<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const made = new Map<string, T>();
  return (...values) => {
    const key = values.join('\0');
    let child = made.get(key);
    if (child === undefined) made.set(key, (child = make(...values)));
    return child;
  };
}

/** The prom-client implementation of the metrics port; `counters` are read at each scrape. */
export function promClientMetrics(counters: Counters): NodeMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ ...SERIES.requests, labelNames: [...SERIES.requests.labelNames], registers });
  const inFlight = new Gauge({ name: SERIES.inFlight.name, help: SERIES.inFlight.help, registers });
  const upstream = new Histogram({ ...SERIES.upstream, labelNames: [...SERIES.upstream.labelNames], buckets: UPSTREAM_BUCKETS, registers });
  const cache = new Counter({ ...SERIES.cache, labelNames: [...SERIES.cache.labelNames], registers });
  const idempotency = new Counter({ ...SERIES.idempotency, labelNames: [...SERIES.idempotency.labelNames], registers });
  for (const key of ['rateLimit', 'rateLimitStoreErrors', 'authFailures', 'credentials'] as const) {
    const series = SERIES[key];
    const rows = FROM_COUNTERS.filter(([name]) => name === key);
    new Counter({
      name: series.name,
      help: series.help,
      labelNames: [...series.labelNames],
      registers,
      // Read at scrape time: the request path only bumps the plain counters it always has.
      collect() {
        this.reset();
        for (const [, labels, counter] of rows) this.inc(labels, counted(counters, counter));
      },
    });
  }
  const requestChild = children((flow, statusClass) => requests.labels(flow!, statusClass!));
  const cacheChild = children((flow, outcome) => cache.labels(flow!, outcome!));
  const idempotencyChild = children((flow, outcome) => idempotency.labels(flow!, outcome!));
  const upstreamChild = children((flow) => upstream.labels(flow!));
  return {
    registry,
    contentType: registry.contentType,
    started() {
      inFlight.inc();
    },
    finished(entry: AccessLogEntry) {
      inFlight.dec();
      const events = requestEvents(entry);
      requestChild(events.flow, events.statusClass).inc();
      if (events.cache !== undefined) cacheChild(events.flow, events.cache).inc();
      if (events.idempotency !== undefined) idempotencyChild(events.flow, events.idempotency).inc();
      if (events.upstreamSeconds !== undefined) upstreamChild(events.flow).observe(events.upstreamSeconds);
    },
    render: () => registry.metrics(),
  };
}
