import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent, traceFor } from '../../src/lib/trace-context.js';
import { sequenceRandom } from '../../src/lib/random.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent (W3C Trace Context Level 1, §3.2)', () => {
  it('accepts the specification example and a later version with more fields', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ traceId: TRACE, parentId: PARENT, flags: '01' });
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-00-what-the-future-holds`)).toEqual({ traceId: TRACE, parentId: PARENT, flags: '00' });
  });

  it('refuses what the specification calls invalid', () => {
    for (const bad of [
      `ff-${TRACE}-${PARENT}-01`, // version ff
      `00-${TRACE.toUpperCase()}-${PARENT}-01`, // uppercase hex
      `00-${'0'.repeat(32)}-${PARENT}-01`, // all-zero trace id
      `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
      `00-${TRACE}-${PARENT}-01-extra`, // version 00 is exactly 55 characters
      `cc-${TRACE}-${PARENT}-01x`, // a later version's extra fields start with "-"
      `00-${TRACE.slice(1)}-${PARENT}-01`, // short trace id
      `00-${TRACE}-${PARENT}-0g`, // flags not hex
      `00_${TRACE}_${PARENT}_01`,
      '',
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined();
    }
  });

  it('starts a sampled trace from the injected randomness when there is none, and keeps tracestate only with a valid parent', () => {
    const started = traceFor(undefined, 'vendor=1', sequenceRandom(5));
    expect(started).toEqual({
      traceId: '00000000000000000000000000000005',
      spanId: '0000000000000001',
      parentId: undefined,
      flags: '01',
      tracestate: undefined,
    });
  });
});

describe('trace context through the gateway', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway({ upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS }, flows: { hello: {} } });
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const call = async (headers: Record<string, string>) => {
    const before = stub.calls.length;
    const answer = await gw.send(`${gw.url}/flows/hello/run`, { body: '{}', headers });
    expect(answer.status).toBe(200);
    const timing = /traceparent;desc="00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})"/.exec(answer.headers.get('server-timing') ?? '');
    expect(timing, answer.headers.get('server-timing') ?? '').not.toBeNull();
    const line = gw.logs.findLast((l) => l.path === '/flows/hello/run')!;
    return { timing: { traceId: timing![1], spanId: timing![2], flags: timing![3] }, upstream: stub.calls[before]!.headers, line };
  };

  it("keeps an incoming traceparent: its trace id in the log and Server-Timing, the gateway's own span as the upstream's parent", async () => {
    const { timing, upstream, line } = await call({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' });
    expect(timing.traceId).toBe(TRACE);
    expect(timing.spanId).not.toBe(PARENT);
    expect(line.traceId).toBe(TRACE);
    expect(upstream.traceparent).toBe(`00-${TRACE}-${timing.spanId}-01`);
    expect(upstream.tracestate).toBe('congo=t61rcWkgMzE');
  });

  it('starts a new trace when the incoming traceparent is invalid or absent, and never forwards the invalid one', async () => {
    const seen = new Set<string>();
    for (const headers of [{}, { traceparent: `ff-${TRACE}-${PARENT}-01` }, { traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01` }] as Record<
      string,
      string
    >[]) {
      const { timing, upstream, line } = await call(headers);
      expect(timing.traceId).not.toBe(TRACE);
      expect(timing.traceId).not.toBe(TRACE.toUpperCase());
      expect(timing.flags).toBe('01');
      expect(line.traceId).toBe(timing.traceId);
      expect(upstream.traceparent).toBe(`00-${timing.traceId}-${timing.spanId}-01`);
      expect(upstream.tracestate).toBeUndefined();
      seen.add(timing.traceId!);
    }
    expect(seen.size).toBe(3);
  });
});
