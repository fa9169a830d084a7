/**
 * A hand-written Prometheus text exposition (format 0.0.4) of the catalogue's series, for Workers, where
 * prom-client does not run (it needs Node's modules). Values live in this object: on Workers that means per
 * isolate, so a scrape sees the isolate that answered it; sum over isolates, or read Cloudflare's own analytics,
 * for the whole deployment. Web-standard, no timers.
 */
import type { Counters } from '../lib/counters.js';
import type { AccessLogEntry } from '../log.js';
import { counted, FROM_COUNTERS, PROMETHEUS_CONTENT_TYPE, requestEvents, SERIES, UPSTREAM_BUCKETS } from './catalogue.js';
import type { Metrics } from './types.js';

/** Label values escaped as the text format asks: backslash, double quote and line feed. */
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (names: readonly string[], values: readonly string[]) =>
  names.length ? `{${names.map((name, i) => `${name}="${escape(values[i]!)}"`).join(',')}}` : '';

interface HistogramCell {
  buckets: number[];
  sum: number;
  count: number;
}

/** The plain implementation of the metrics port; `counters` are read at each render. */
export function plainMetrics(counters: Counters): Metrics {
  const requests = new Map<string, number>();
  const cache = new Map<string, number>();
  const idempotency = new Map<string, number>();
  const upstream = new Map<string, HistogramCell>();
  let inFlight = 0;
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const header = (series: { name: string; help: string }, type: string) => `# HELP ${series.name} ${series.help}\n# TYPE ${series.name} ${type}\n`;
  const counterLines = (series: { name: string; help: string; labelNames: readonly string[] }, map: Map<string, number>) =>
    header(series, 'counter') + [...map].map(([key, value]) => `${series.name}${labelText(series.labelNames, key.split('\0'))} ${value}\n`).join('');

  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    started() {
      inFlight++;
    },
    finished(entry: AccessLogEntry) {
      inFlight--;
      const events = requestEvents(entry);
      add(requests, `${events.flow}\0${events.statusClass}`);
      if (events.cache !== undefined) add(cache, `${events.flow}\0${events.cache}`);
      if (events.idempotency !== undefined) add(idempotency, `${events.flow}\0${events.idempotency}`);
      if (events.upstreamSeconds !== undefined) {
        let cell = upstream.get(events.flow);
        if (!cell) upstream.set(events.flow, (cell = { buckets: UPSTREAM_BUCKETS.map(() => 0), sum: 0, count: 0 }));
        UPSTREAM_BUCKETS.forEach((bound, i) => {
          if (events.upstreamSeconds! <= bound) cell.buckets[i]!++;
        });
        cell.sum += events.upstreamSeconds;
        cell.count++;
      }
    },
    async render() {
      let text = counterLines(SERIES.requests, requests);
      text += header(SERIES.inFlight, 'gauge') + `${SERIES.inFlight.name} ${inFlight}\n`;
      const h = SERIES.upstream.name;
      text += header(SERIES.upstream, 'histogram');
      for (const [flow, cell] of upstream) {
        UPSTREAM_BUCKETS.forEach((bound, i) => (text += `${h}_bucket{le="${bound}",flow="${escape(flow)}"} ${cell.buckets[i]}\n`));
        text += `${h}_bucket{le="+Inf",flow="${escape(flow)}"} ${cell.count}\n${h}_sum{flow="${escape(flow)}"} ${cell.sum}\n${h}_count{flow="${escape(flow)}"} ${cell.count}\n`;
      }
      text += counterLines(SERIES.cache, cache) + counterLines(SERIES.idempotency, idempotency);
      for (const key of ['rateLimit', 'rateLimitStoreErrors', 'authFailures', 'credentials'] as const) {
        const series = SERIES[key];
        text += header(series, 'counter');
        for (const [name, labels, counter] of FROM_COUNTERS) {
          if (name === key) text += `${series.name}${labelText(Object.keys(labels), Object.values(labels))} ${counted(counters, counter)}\n`;
        }
      }
      return text;
    },
  };
}
