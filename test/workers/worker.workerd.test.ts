import { gzipSync } from 'node:zlib';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadFlowsFolder, startEmulator } from '../../src/platform/node/emulator.js';
import { memoryRateLimitStore } from '../../src/ratelimit/stores/memory.js';
import type { Decision, Policy } from '../../src/ratelimit/types.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstreamStub, succeeded, upstreamError, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { postChunked, postJson, send } from './helpers/http.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';

/**
 * The Worker bundle exactly as `wrangler deploy` builds it, run in the real workerd runtime
 * (Miniflare on a loopback port), calling the signature-verifying CloudFlow stub over real HTTP.
 */

/** An hour ahead of the real clock: the object's cleanup alarm (real time) never touches counters a test is still using. */
const T0 = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000;
const MOBILE_KEY = 'edge-mobile-key-0123456789abcdef';
const SECRETS = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
  MOBILE_API_KEY: MOBILE_KEY,
};

function gatewayConfig(upstreamUrl: string, signatureVersion: 'v3' | 'rpc' = 'v3') {
  return {
    upstream: { endpoint: upstreamUrl, signatureVersion, timeout: '2s' },
    server: { maxBodySize: '64KiB', metrics: { access: 'public' } },
    callers: { mobile: { apiKeys: ['${MOBILE_API_KEY}'] } },
    flows: {
      hello: { flowName: 'hello_world', access: 'public', qualifiers: ['prod'], errors: { InvalidOrder: 422 } },
      members: { access: ['mobile'] },
      slow: { access: 'public', timeout: '300ms' },
    },
  };
}

let build: WorkerBuild;
let stub: UpstreamStub;

beforeAll(async () => {
  [build, stub] = await Promise.all([buildWorker(), startUpstreamStub()]);
}, 90_000);

afterAll(async () => {
  await stub?.close();
  await build?.remove();
});

describe('the Worker bundle', () => {
  it('builds with wrangler deploy --dry-run and stays within its size budget', () => {
    const raw = Buffer.byteLength(build.code);
    const gzip = gzipSync(build.code).byteLength;
    // The Workers limit is 3 MiB compressed (free plan); this budget is far tighter, so a dependency or an
    // import that pulls a whole library in (`import { z } from 'zod'` doubled the bundle to 741 KiB) fails here.
    // Minified (wrangler.toml) it is about 381 KiB raw and 124 KiB gzipped. The budget grew from 450 KiB (150 KiB
    // gzipped) when routes came and inputSchema became enforced: @cfworker/json-schema (about 55 KiB unminified),
    // the 2020-12 meta-schema (9 KiB) and the route code.
    expect(raw).toBeGreaterThan(10_000);
    expect(raw).toBeLessThan(500 * 1024);
    expect(gzip).toBeLessThan(165 * 1024);
    expect(build.sources.some((s) => s.endsWith('src/worker.ts'))).toBe(true);
  });

  it('has no node: imports and no Node-only or emulator code', () => {
    expect(build.code).not.toMatch(/(?:from|import|require)\s*\(?\s*["']node:/);
    const forbidden = /src\/(?:emulator\/|cli\/|platform\/node\/|node\.ts$)|\.node\.ts$|node_modules\/(?:undici|ioredis|@hono\/node-server)\//;
    expect(build.sources.filter((s) => forbidden.test(s))).toEqual([]);
    // Sanity check of the check itself: the source map does list the core files it bundles.
    expect(build.sources.some((s) => s.endsWith('src/app.ts'))).toBe(true);
  });
});

describe('the gateway in workerd', () => {
  let edge: WorkerdGateway;
  let node: TestGateway;

  beforeAll(async () => {
    const config = gatewayConfig(stub.url);
    [edge, node] = await Promise.all([
      startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(config), ...SECRETS }),
      startGateway(config, { env: SECRETS, log: () => {} }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await edge?.close();
    await node?.close();
  });

  afterEach(() => {
    stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call));
  });

  it('runs a flow with a V3-signed StartSyncExecution over a real HTTP hop', async () => {
    const before = stub.calls.length;
    const res = await postJson(`${edge.url}/flows/hello/run?qualifier=prod`, '{"order": 42}', { 'x-request-id': 'edge-req.1' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ echo: { order: 42 } });
    expect(res.headers.get('x-request-id')).toBe('edge-req.1');
    expect(res.headers.get('x-execution-name')).toBe('fg_edge-req_d1:11111111-2222-4333-8444-555555555555');
    expect(res.headers.get('server-timing')).toMatch(/upstream;dur=\d+/);
    expect(stub.calls.length).toBe(before + 1);
    const call = stub.calls.at(-1)!;
    expect(call.signature).toBe('v3');
    expect(call.form).toEqual({ FlowName: 'hello_world', Input: '{"order": 42}', ExecutionName: 'fg_edge-req_d1', Qualifier: 'prod' });
  });

  it('serves GET /metrics from its isolate with the same series as Node, and carries the trace upstream', async () => {
    const requests = async () => {
      const res = await fetch(`${edge.url}/metrics`);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const families = parsePrometheusTextFormat(await res.text()) as { name: string; metrics: { value: string; labels?: Record<string, string> }[] }[];
      const family = families.find((f) => f.name === 'flowgate_requests_total')!;
      return Number(family.metrics.find((m) => m.labels?.flow === 'hello' && m.labels.status_class === '2xx')?.value ?? 0);
    };
    const before = await requests();
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await postJson(`${edge.url}/flows/hello/run`, '{}', { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
    expect(res.status).toBe(200);
    const span = new RegExp(`traceparent;desc="00-${trace}-([0-9a-f]{16})-01"`).exec(res.headers.get('server-timing') ?? '')![1];
    expect(stub.calls.at(-1)!.headers.traceparent).toBe(`00-${trace}-${span}-01`);
    expect(await requests()).toBe(before + 1);
  });

  it('identifies callers by an API key bound as a secret, and logs neither keys nor signatures', async () => {
    const ok = await postJson(`${edge.url}/flows/members/run`, '{}', { 'x-api-key': MOBILE_KEY, 'x-request-id': 'edge-key-1' });
    expect(ok.status).toBe(200);
    const refused = await postJson(`${edge.url}/flows/members/run`, '{}');
    expect(refused.status).toBe(401);
    expect(refused.json?.Code).toBe('InvalidCredentials');
    expect(edge.logs().find((l) => l.requestId === 'edge-key-1')).toMatchObject({ caller: 'mobile', status: 200 });
    const everything = edge.output.join('\n');
    expect(everything).not.toContain(MOBILE_KEY);
    expect(everything).not.toContain(TEST_CREDENTIALS.accessKeySecret);
    expect(everything).not.toMatch(/ACS3-HMAC-SHA256 Credential|Signature=/);
  });

  it('takes the anonymous caller address from CF-Connecting-IP', async () => {
    await postJson(`${edge.url}/flows/hello/run`, '{}', { 'x-request-id': 'edge-anon-1' });
    expect(edge.logs().find((l) => l.requestId === 'edge-anon-1')).toMatchObject({ caller: 'ip:127.0.0.1' });
  });

  it('refuses a chunked body over server.maxBodySize with 413 while streaming, without calling upstream', async () => {
    const before = stub.calls.length;
    const res = await postChunked(`${edge.url}/flows/hello/run`, { prefix: '{"a":"', fillBytes: 2 * 1024 * 1024, suffix: '"}' });
    expect(res.status).toBe(413);
    // Refused while streaming: after the limit was crossed, long before the 2 MiB were out.
    expect(res.sentBeforeAnswer).toBeGreaterThan(64 * 1024);
    expect(res.sentBeforeAnswer).toBeLessThan(1024 * 1024);
    expect(JSON.parse(res.text)).toMatchObject({ Code: 'EntityTooLarge', Message: 'The payload size exceeds maximum allowed size (65536 bytes).' });
    const declared = await postJson(`${edge.url}/flows/hello/run`, JSON.stringify({ a: 'x'.repeat(70_000) }));
    expect(declared.status).toBe(413);
    expect(stub.calls.length).toBe(before);
  });

  it('reads a chunked body under the limit in full', async () => {
    const res = await postChunked(`${edge.url}/flows/hello/run`, { prefix: '{"a":"', fillBytes: 40 * 1024, suffix: '"}' });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { echo: { a: string } }).echo.a).toHaveLength(40 * 1024);
  });

  it('answers refusals and upstream failures exactly as the Node server does', async () => {
    const deep = '['.repeat(100) + ']'.repeat(100);
    const cases: { name: string; path: string; init: RequestInit; upstream?: Parameters<UpstreamStub['respond']>[0] }[] = [
      { name: 'unknown flow', path: '/flows/nope/run', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } },
      { name: 'unknown path', path: '/nothing/here', init: {} },
      { name: 'wrong method', path: '/flows/hello/run', init: { method: 'GET' } },
      { name: 'text body', path: '/flows/hello/run', init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' } },
      { name: 'invalid JSON', path: '/flows/hello/run', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' } },
      { name: 'array body', path: '/flows/hello/run', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' } },
      { name: 'too deep', path: '/flows/hello/run', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"a":${deep}}` } },
      {
        name: 'bad execution name',
        path: '/flows/hello/run',
        init: { method: 'POST', headers: { 'content-type': 'application/json', 'x-execution-name': '9bad name' }, body: '{}' },
      },
      {
        name: 'qualifier not allowed',
        path: '/flows/hello/run?qualifier=dev',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      },
      {
        name: 'wrong API key',
        path: '/flows/members/run',
        init: { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'not-a-known-key-000000' }, body: '{}' },
      },
      {
        name: 'mapped failure',
        path: '/flows/hello/run',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        upstream: () => ({ json: { RequestId: 'R', Name: 'x:1', Status: 'Failed', ErrorCode: 'InvalidOrder', ErrorMessage: 'sku missing' } }),
      },
      {
        name: 'upstream throttled',
        path: '/flows/hello/run',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        upstream: () => ({ ...upstreamError(429, 'ResourceThrottled'), headers: { 'retry-after': '7' } }),
      },
      {
        name: 'upstream access denied',
        path: '/flows/hello/run',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        upstream: () => upstreamError(403, 'AccessDenied'),
      },
    ];
    for (const { name, path, init, upstream } of cases) {
      if (upstream) stub.respond(upstream);
      const [atEdge, onNode] = await Promise.all([send(edge.url + path, init), send(node.url + path, init)]);
      const shape = (a: typeof atEdge) => ({
        status: a.status,
        code: a.json?.Code,
        message: a.json?.Message,
        retryAfter: a.headers.get('retry-after'),
        allow: a.headers.get('allow'),
      });
      expect(shape(atEdge), name).toEqual(shape(onNode));
      expect(atEdge.status, name).toBeGreaterThanOrEqual(400);
      expect(atEdge.json?.RequestId, name).toBe(atEdge.headers.get('x-request-id'));
    }
  });

  it('enforces the upstream deadline with an AbortSignal: a hanging upstream → 504 GatewayTimeout', async () => {
    stub.respond(() => ({ hang: true }));
    const started = Date.now();
    const res = await postJson(`${edge.url}/flows/slow/run`, '{}');
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ Code: 'GatewayTimeout', Message: 'The workflow service did not answer within 300 ms.' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('builds the gateway once per isolate, not per request', () => {
    expect(edge.logs().filter((l) => l.msg === 'gateway ready')).toHaveLength(1);
  });
});

describe('the config wrangler.toml ships, against a running flowgate emulator', () => {
  it('serves the example flows the way `wrangler dev` with .dev.vars would', async () => {
    const emulator = await startEmulator({ port: 0, flows: loadFlowsFolder(resolve(import.meta.dirname, '../../examples/flows')) });
    const edge = await startWorkerd(build, {
      FLOWGATE_CONFIG: build.shippedConfig,
      FLOWGATE_UPSTREAM_ENDPOINT: emulator.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret',
    });
    try {
      const hello = await postJson(`${edge.url}/flows/hello/run`, '{"name":"Ada"}');
      expect(hello.status).toBe(200);
      expect(hello.json).toEqual({ message: 'Hello, Ada!' });
      expect(hello.headers.get('x-execution-name')).toMatch(/^fg_[\w-]+:[0-9a-f-]{36}$/);
      const invalid = await postJson(`${edge.url}/flows/validate-order/run`, '{}');
      expect(invalid.status).toBe(422);
      expect(invalid.json?.Code).toBe('InvalidOrder');
    } finally {
      await edge.close();
      await emulator.close(0);
    }
  });
});

describe('RPC-style signing in workerd', () => {
  it('runs a flow with an HMAC-SHA1 signed RPC call', async () => {
    const edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(gatewayConfig(stub.url, 'rpc')), ...SECRETS });
    try {
      const res = await postJson(`${edge.url}/flows/hello/run`, '{"n":1}');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ echo: { n: 1 } });
      expect(stub.calls.at(-1)!.signature).toBe('rpc');
    } finally {
      await edge.close();
    }
  });
});

describe('an invalid configuration in workerd', () => {
  const LEAKY = 'sk-live-never-show-me-0042';

  it('answers every request 500 with the key path and without the value, and logs no value', async () => {
    const config = {
      upstream: { endpoint: stub.url, timeout: '${LEAKY_SECRET}' },
      flows: { hello: { maxInputSize: 'lots' } },
    };
    const edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(config), ...SECRETS, LEAKY_SECRET: LEAKY });
    try {
      const before = stub.calls.length;
      for (const [path, init] of [
        ['/flows/hello/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
        ['/healthz', {}],
      ] as const) {
        const res = await send(edge.url + path, init);
        expect(res.status).toBe(500);
        expect(res.json).toEqual({
          RequestId: res.headers.get('x-request-id'),
          Code: 'InternalError',
          Message:
            'invalid configuration: upstream.timeout: expected a duration such as "60s", "5m", "1d" or milliseconds; flows.hello.maxInputSize: expected a size such as "64KiB", "1MiB" or bytes',
        });
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(res.text).not.toContain(LEAKY);
        expect(res.text).not.toContain('lots');
      }
      expect(stub.calls.length).toBe(before);
      expect(edge.logs().filter((l) => l.msg === 'invalid configuration')).toHaveLength(1);
      expect(edge.output.join('\n')).not.toContain(LEAKY);
    } finally {
      await edge.close();
    }
  });
});

describe('rate limits from the Durable Object in workerd', () => {
  let edge: WorkerdGateway;
  type Limiter = { check(policies: Policy[], now: number): Promise<Decision> };
  // Over HTTP through the probe Worker, not Miniflare's binding proxy (cloudflare/workers-sdk#15552).
  const limiterFor = async (shard: string) => edge.probe.durableObject<Limiter>('RATE_LIMITER', shard);
  const gcraPolicy = (key: string, count: number, periodMs: number, burst: number): Policy => ({
    kind: 'gcra',
    name: 'flow',
    key,
    intervalMs: periodMs / count,
    burst,
  });

  beforeAll(async () => {
    const config = gatewayConfig(stub.url);
    const limited = {
      ...config,
      flows: { ...config.flows, limited: { access: 'public', rateLimit: { rate: '4/1m', burst: 4 } } },
    };
    edge = await startWorkerd(build, { FLOWGATE_CONFIG: JSON.stringify(limited), ...SECRETS });
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
  });

  it('30 concurrent requests from one caller against a burst of 4: exactly 4 run, 26 get 429 with Retry-After', async () => {
    const before = stub.calls.length;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => postJson(`${edge.url}/flows/limited/run`, '{}', { 'cf-connecting-ip': '198.51.100.7' })),
    );
    const ok = answers.filter((a) => a.status === 200);
    const throttled = answers.filter((a) => a.status === 429);
    expect(ok).toHaveLength(4);
    expect(throttled).toHaveLength(26);
    expect(stub.calls.length - before).toBe(4);
    expect(ok.map((a) => a.headers.get('ratelimit')).sort()).toEqual(['"flow";r=0;t=60', '"flow";r=1;t=45', '"flow";r=2;t=30', '"flow";r=3;t=15'].sort());
    for (const a of throttled) {
      expect(a.json).toMatchObject({ Code: 'ResourceThrottled' });
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(14);
      expect(Number(a.headers.get('retry-after'))).toBeLessThanOrEqual(15);
      expect(a.headers.get('ratelimit-policy')).toBe(ok[0]!.headers.get('ratelimit-policy'));
    }
    expect(edge.logs().find((l) => l.msg === 'gateway ready')).toMatchObject({ rateLimits: 'durable-object' });
  });

  it('keeps callers apart: another address still has its whole burst', async () => {
    const other = await postJson(`${edge.url}/flows/limited/run`, '{}', { 'cf-connecting-ip': '198.51.100.8' });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit')).toMatch(/^"flow";r=3;/);
  });

  it('keys the platform address as Node does: one IPv6 /64 in any spelling is one caller, and X-Forwarded-For is not read', async () => {
    const sent = [
      ['2001:db8:1:2::a1', '203.0.113.1'],
      ['2001:DB8:1:2:0:0:0:A2', '203.0.113.2'],
      ['2001:0db8:0001:0002::a3', '203.0.113.3'],
    ];
    const remaining: (string | null)[] = [];
    for (const [ip, forwarded] of sent) {
      const answer = await postJson(`${edge.url}/flows/limited/run`, '{}', { 'cf-connecting-ip': ip!, 'x-forwarded-for': forwarded! });
      expect(answer.status).toBe(200);
      remaining.push(/^"flow";r=(\d+);/.exec(answer.headers.get('ratelimit') ?? '')?.[1] ?? null);
    }
    expect(remaining).toEqual(['3', '2', '1']);
    const callers = edge.logs().filter((l) => l.path === '/flows/limited/run' && typeof l.caller === 'string' && l.caller.startsWith('ip:2001'));
    expect(new Set(callers.map((l) => l.caller))).toEqual(new Set(['ip:2001:db8:1:2::/64']));
    expect(edge.logs().find((l) => l.msg === 'gateway ready')).toMatchObject({ clientAddress: 'CF-Connecting-IP, set by Cloudflare; IPv6 keyed by /64' });
  });

  it('decides exactly like the memory store, request by request, on the same clock, a clock behind included', async () => {
    const memory = memoryRateLimitStore();
    const limiter = await limiterFor('{contract}');
    const policies: Policy[] = [
      gcraPolicy('t:rl:{contract}:caller', 10, 1000, 3),
      { kind: 'window', name: 'quota', key: 't:rl:{contract}:q', limit: 5, windowMs: 60_000, windowEnd: T0 + 60_000 },
    ];
    // 240 after 250: a request whose now is behind the last admission's is decided at the keys' time; 4_990
    // after 5_000: a refusal did not move it (ratelimit/gcra.ts).
    for (const offset of [0, 0, 0, 0, 50, 100, 100, 250, 240, 400, 401, 900, 5_000, 4_990]) {
      const fromMemory = await memory.check(policies, T0 + offset);
      expect(fromMemory.ok).toBe(true);
      expect(await limiter.check(policies, T0 + offset), `at +${offset} ms`).toEqual(fromMemory.ok && fromMemory.value);
    }
  });

  it('counts exactly when 40 checks arrive at one object at once', async () => {
    const limiter = await limiterFor('{burst}');
    const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.check([gcraPolicy('t:rl:{burst}:flow', 5, 60_000, 5)], T0)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(
      decisions
        .filter((d) => d.allowed)
        .map((d) => d.states[0]!.remaining)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects malformed input instead of counting with it', async () => {
    const limiter = await limiterFor('{bad}');
    // Only the rejection is asserted: the messages are the object's own wording.
    await expect(limiter.check([], T0)).rejects.toThrow();
    await expect(limiter.check([gcraPolicy('k', 1, 1000, 1)], Number.NaN)).rejects.toThrow();
    await expect(limiter.check([{ ...gcraPolicy('k', 1, 1000, 1), burst: 0 } as Policy], T0)).rejects.toThrow();
    await expect(limiter.check([{ kind: 'other', key: 'k' } as unknown as Policy], T0)).rejects.toThrow();
    expect((await limiter.check([gcraPolicy('k', 1, 1000, 1)], T0)).states[0]!.remaining).toBe(0);
  });
});
