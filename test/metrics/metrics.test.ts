import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainMetrics } from '../../src/metrics/plain.js';
import type { RateLimitStore } from '../../src/ratelimit/types.js';
import { gate } from '../helpers/gate.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const OPS = 'ops-key-0123456789abcdef00';
const APP = 'app-key-0123456789abcdef00';

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

/** The exposition parsed by a Prometheus text-format parser (a port of the official Python client's). */
function parse(text: string): Map<string, Family> {
  return new Map((parsePrometheusTextFormat(text) as Family[]).map((family) => [family.name, family]));
}

/** The value of the sample of `name` whose labels include `labels`; 0 when there is none yet. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) throw new Error(`no ${name} in the exposition`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}

/**
 * One flow's series of histogram `name`, parsed: the parser keeps a histogram's buckets, sum and count only when it
 * has no label but `le`, so the flow's lines are taken out and its label dropped first.
 */
function histogram(text: string, name: string, flow: string): { buckets: Record<string, string>; count?: string; sum?: string } {
  const label = `flow="${flow}"`;
  const lines = text
    .split('\n')
    .filter((line) => line.startsWith(`${name}_`) && line.includes(label))
    .map((line) => line.replace(`,${label}`, '').replace(`${label},`, '').replace(`{${label}}`, ''));
  const [family] = parsePrometheusTextFormat(`# TYPE ${name} histogram\n${lines.join('\n')}\n`) as Family[];
  return (family?.metrics[0] ?? { buckets: {} }) as { buckets: Record<string, string>; count?: string; sum?: string };
}

describe('GET /metrics on Node (prom-client)', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  let storeFails = false;

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
        callers: { ops: { apiKeys: [OPS], admin: true }, app: { apiKeys: [APP] } },
        flows: {
          hello: { access: 'authenticated' },
          limited: { access: 'authenticated', rateLimit: { rate: '1/1h', burst: 1 } },
          cached: { access: 'authenticated', cache: { ttl: '1h' } },
          once: { access: 'authenticated', idempotency: { ttl: '1h' } },
        },
      },
      {
        adjustDeps(deps) {
          const store = deps.rateLimitStore;
          // A store that can be made to fail, as a Redis outage would.
          deps.rateLimitStore = {
            kind: store.kind,
            check: (policies, now) => (storeFails ? Promise.resolve({ ok: false, error: 'unavailable' }) : store.check(policies, now)),
          } satisfies RateLimitStore;
        },
      },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const run = (flow: string, body = '{}', headers: Record<string, string> = {}) =>
    gw.send(`${gw.url}/flows/${flow}/run`, { body, headers: { 'x-api-key': APP, ...headers } });
  const scrapeText = async () => {
    const answer = await gw.fetch(`${gw.url}/metrics`, { headers: { 'x-api-key': OPS } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return answer.text();
  };
  const scrape = async () => parse(await scrapeText());

  it('asks for an admin caller by default, like the cache purge', async () => {
    const anonymous = await gw.send(`${gw.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ Code: 'InvalidCredentials' });
    const plain = await gw.send(`${gw.url}/metrics`, { headers: { 'x-api-key': APP } });
    expect(plain.status).toBe(403);
    expect(plain.json).toMatchObject({ Code: 'AccessDenied' });
  });

  it('counts requests by flow and status class, upstream latency, cache, rate-limit and Idempotency-Key outcomes as requests are made', async () => {
    const beforeText = await scrapeText();
    const before = parse(beforeText);
    expect(before.get('flowgate_upstream_duration_seconds')?.type).toBe('HISTOGRAM');

    expect((await run('hello')).status).toBe(200);
    stub.respond(() => ({ status: 500, json: { RequestId: 'U', Code: 'InternalError', Message: 'boom' } }));
    expect((await run('hello')).status).toBe(502);
    stub.respond((call) => succeeded({ ok: true }, call));
    expect((await run('limited')).status).toBe(200);
    expect((await run('limited')).status).toBe(429);
    expect((await run('cached', '{"n":1}')).status).toBe(200);
    expect((await run('cached', '{"n":1}')).status).toBe(200);
    expect((await run('once', '{}', { 'idempotency-key': 'k-1' })).status).toBe(200);
    expect((await run('once', '{}', { 'idempotency-key': 'k-1' })).status).toBe(200);
    storeFails = true;
    expect((await run('limited')).status).toBe(200); // its budget is spent, but storeOptions.onError is open
    storeFails = false;
    await gw.drain();

    const afterText = await scrapeText();
    const after = parse(afterText);
    const calls = (text: string, flow: string) => Number(histogram(text, 'flowgate_upstream_duration_seconds', flow).count ?? 0);
    const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(moved('flowgate_requests_total', { flow: 'hello', status_class: '2xx' })).toBe(1);
    expect(moved('flowgate_requests_total', { flow: 'limited', status_class: '2xx' })).toBe(2);
    expect(moved('flowgate_requests_total', { flow: 'hello', status_class: '5xx' })).toBe(1);
    expect(moved('flowgate_requests_total', { flow: 'limited', status_class: '4xx' })).toBe(1);
    // The scrapes themselves count, under no flow.
    expect(moved('flowgate_requests_total', { flow: '', status_class: '2xx' })).toBe(1);
    // Every call that reached the upstream: hello 2, limited 2, cached 1.
    expect(calls(afterText, 'hello') - calls(beforeText, 'hello')).toBe(2);
    expect(calls(afterText, 'limited') - calls(beforeText, 'limited')).toBe(2);
    expect(calls(afterText, 'cached') - calls(beforeText, 'cached')).toBe(1);
    expect(moved('flowgate_cache_outcomes_total', { flow: 'cached', outcome: 'miss' })).toBe(1);
    expect(moved('flowgate_cache_outcomes_total', { flow: 'cached', outcome: 'hit' })).toBe(1);
    expect(moved('flowgate_idempotency_outcomes_total', { flow: 'once', outcome: 'new' })).toBe(1);
    expect(moved('flowgate_idempotency_outcomes_total', { flow: 'once', outcome: 'replayed' })).toBe(1);
    expect(moved('flowgate_rate_limit_decisions_total', { decision: 'refused' })).toBe(1);
    expect(moved('flowgate_rate_limit_decisions_total', { decision: 'allowed' })).toBeGreaterThanOrEqual(1);
    expect(moved('flowgate_rate_limit_store_errors_total', { on_error: 'open' })).toBe(1);
    const hello = histogram(afterText, 'flowgate_upstream_duration_seconds', 'hello');
    expect(hello.buckets['+Inf']).toBe(hello.count);
    expect(Object.keys(hello.buckets)).toContain('300');
  });

  it('shows the requests in flight', async () => {
    const held = gate();
    const arrived = stub.received(stub.calls.length + 1);
    stub.respond(async (call) => {
      await held.opened;
      return succeeded({}, call);
    });
    const pending = run('hello');
    await arrived;
    // The held run and the scrape itself.
    expect(value(await scrape(), 'flowgate_requests_in_flight')).toBe(2);
    held.open();
    expect((await pending).status).toBe(200);
    expect(value(await scrape(), 'flowgate_requests_in_flight')).toBe(1);
    stub.respond((call) => succeeded({ ok: true }, call));
  });
});

describe('GET /metrics with access: public, or on a port of its own', () => {
  it('public serves anyone; port takes it off the gateway listener', async () => {
    const stub = inProcessUpstream();
    const open = inProcessGateway({
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
      server: { metrics: { access: 'public' } },
      flows: { hello: {} },
    });
    const apart = inProcessGateway({ upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS }, server: { metrics: { port: 0 } }, flows: { hello: {} } });
    try {
      expect((await open.send(`${open.url}/metrics`)).status).toBe(200);
      expect((await apart.send(`${apart.url}/metrics`)).status).toBe(404);
    } finally {
      await Promise.all([open.close(), apart.close()]);
      await stub.close();
    }
  });
});

describe('the hand-written exposition (Workers, per isolate)', () => {
  it('parses as the text format, with the same series as prom-client, and its values move', async () => {
    const counters: Record<string, number> = {};
    const metrics = plainMetrics(counters);
    const empty = parse(await metrics.render());
    expect([...empty.keys()].sort()).toEqual(
      [
        'flowgate_auth_failures_refused_total',
        'flowgate_cache_outcomes_total',
        'flowgate_credential_refreshes_total',
        'flowgate_idempotency_outcomes_total',
        'flowgate_rate_limit_decisions_total',
        'flowgate_rate_limit_store_errors_total',
        'flowgate_requests_in_flight',
        'flowgate_requests_total',
        'flowgate_upstream_duration_seconds',
      ].sort(),
    );
    metrics.started();
    metrics.started();
    metrics.finished({ requestId: 'a', method: 'POST', path: '/flows/a"b/run', flow: 'a"b\\c', status: 200, upstreamMs: 40, cache: 'miss' });
    counters['ratelimit.refused'] = 3;
    const text = await metrics.render();
    const families = parse(text);
    expect(value(families, 'flowgate_requests_total', { flow: 'a"b\\c', status_class: '2xx' })).toBe(1);
    expect(value(families, 'flowgate_requests_in_flight')).toBe(1);
    expect(value(families, 'flowgate_cache_outcomes_total', { outcome: 'miss' })).toBe(1);
    expect(value(families, 'flowgate_rate_limit_decisions_total', { decision: 'refused' })).toBe(3);
    // The label value as the text format escapes it: a"b\c is written a\"b\\c.
    const upstream = histogram(text, 'flowgate_upstream_duration_seconds', 'a\\"b\\\\c');
    expect(upstream).toMatchObject({ count: '1', sum: '0.04' });
    expect(upstream.buckets).toMatchObject({ '0.025': '0', '0.05': '1', '300': '1', '+Inf': '1' });
  });
});
