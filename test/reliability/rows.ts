import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { parseDuration } from '../../src/config/units.js';
import type { LogLine } from '../../src/log.js';
import { startEmulator } from '../../src/platform/node/emulator.js';
import { gate } from '../helpers/gate.js';
import { startGateway, type GatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { send, type Answer } from '../helpers/post.js';
import { startDedicatedRedis } from '../helpers/redis-server.js';
import { spawnCli } from '../helpers/spawn.js';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, upstreamError } from '../helpers/upstream-stub.js';
import { closedPort, startRawUpstream } from './raw-upstream.js';

/**
 * The fault matrix: each row starts a real gateway (a Node server on loopback, or the built CLI as a
 * process), injects one fault, and asserts the answer and how long it took. Every time bound is a config
 * value of the row plus `SLACK_MS`, so that a loaded machine cannot make a row fail while a gateway that
 * waits on the wrong thing (no deadline, a deadline ignored) still does; lower bounds are deadlines that
 * must have passed. The rows are shared by `npm run faults` (all of them, printing the table) and by
 * `npm test` (the ones marked `fast`).
 */
export interface FaultRow {
  id: string;
  group: 'upstream' | 'redis' | 'client' | 'process' | 'clock';
  fault: string;
  /** The answer the row asserts, and its time bound, as the docs table states it. */
  expected: string;
  /** Runs in `npm test` too: a few seconds at most, no child process. */
  fast: boolean;
  run(): Promise<Observed>;
}

export interface Observed {
  /** What came back, in the table's words. */
  answer: string;
  /** Time to answer (ms): from the fault (or the request) to the answer the row waits for. */
  ms: number;
}

/** Scheduling slack on a loaded, shared 2-core machine: added to every config-derived upper bound. */
export const SLACK_MS = 5_000;

const UPSTREAM_TIMEOUT = '1s';
/** For faults that must fail fast: a deadline long enough that reaching it would show the fault was not noticed. */
const LONG_UPSTREAM_TIMEOUT = '30s';
const STORE_TIMEOUT = '250ms';

/**
 * The first of up to 20 sequential requests whose limit the store decided (it carries `RateLimit`), or the last
 * answer when none was: a store answer that misses its deadline once is served undecided, fail-open.
 */
async function decidedAnswer(gw: Parameters<typeof run>[0], phase: string): Promise<Answer> {
  let answer = await run(gw, { 'x-api-key': KEY }, JSON.stringify({ phase, attempt: 0 }));
  for (let attempt = 1; attempt < 20 && answer.headers.get('ratelimit') === null; attempt++) {
    answer = await run(gw, { 'x-api-key': KEY }, JSON.stringify({ phase, attempt }));
  }
  return answer;
}
const KEY = 'reliability-caller-key-0123456789';

const ms = (duration: string) => parseDuration(duration)!;

function gatewayConfig(endpoint: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    upstream: { endpoint, credentials: TEST_CREDENTIALS, timeout: UPSTREAM_TIMEOUT },
    server: { accessLog: true },
    flows: { hello: { flowName: 'hello_world', access: 'public' } },
    ...overrides,
  };
}

/** A gateway whose log lines can be awaited: `logged(match)` resolves with the first line that matches, past or future. */
async function loggedGateway(raw: Record<string, unknown>, options: GatewayOptions = {}) {
  const lines: LogLine[] = [];
  const waiting = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const gw = await startGateway(raw, {
    ...options,
    log: (line) => {
      lines.push(line);
      for (const waiter of waiting) {
        if (!waiter.match(line)) continue;
        waiting.delete(waiter);
        waiter.resolve(line);
      }
    },
  });
  return Object.assign(gw, {
    lines,
    logged(match: (line: LogLine) => boolean): Promise<LogLine> {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiting.add({ match, resolve }));
    },
  });
}

async function withGateway<T>(gw: TestGateway, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await gw.close();
  }
}

const run = (gw: { url: string }, headers: Record<string, string> = {}, body = '{"n":1}') => send(`${gw.url}/flows/hello/run`, { body, headers });

/** The error envelope with this status and code: RequestId, Code, Message, JSON. */
function expectEnvelope(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.json).toMatchObject({ Code: code, RequestId: expect.any(String), Message: expect.any(String) });
}

const said = (answer: Answer) => `${answer.status} ${String(answer.json?.Code ?? (answer.status < 300 ? 'success' : '?'))}`;

/** A row about the upstream's answer: a gateway in front of `endpoint`, one request, its envelope and time. */
async function upstreamRow(
  endpoint: string,
  timeout: string,
  status: number,
  code: string,
  close: () => Promise<void>,
): Promise<{ answer: Answer; lines: LogLine[] }> {
  const gw = await loggedGateway(gatewayConfig(endpoint, { upstream: { endpoint, credentials: TEST_CREDENTIALS, timeout } }));
  try {
    const answer = await run(gw);
    expectEnvelope(answer, status, code);
    return { answer, lines: gw.lines };
  } finally {
    await gw.close();
    await close();
  }
}

/** Writes a request head (and optionally part of a body) on a raw socket. */
function rawSocket(url: string): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection, and when it closed (performance.now()). */
function readUntilClosed(socket: Socket): Promise<{ text: string; at: number }> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve({ text, at: performance.now() })));
}

/**
 * A client that sends `head`, then `piece` every 100 ms and never finishes: the gateway (headersTimeout 500 ms,
 * requestTimeout 1 s) must answer 408 in the envelope and close the connection `timeoutMs` after the first byte
 * (within SLACK_MS), without calling the upstream.
 */
async function tricklesInto408(head: string, piece: string, timeoutMs: number) {
  const stub = await startUpstreamStub();
  const gw = await loggedGateway(gatewayConfig(stub.url, { server: { headersTimeout: '500ms', requestTimeout: '1s' } }));
  return withGateway(gw, async () => {
    const socket = await rawSocket(gw.url);
    const closed = readUntilClosed(socket);
    const started = performance.now();
    socket.write(head);
    const trickle = setInterval(() => !socket.destroyed && socket.write(piece), 100);
    const { text, at } = await closed;
    clearInterval(trickle);
    await stub.close();
    const elapsed = at - started;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.split('\r\n\r\n')[1]!)).toMatchObject({ Code: 'RequestTimeout', RequestId: expect.any(String) });
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(elapsed).toBeLessThan(timeoutMs + SLACK_MS);
    expect(stub.calls).toHaveLength(0);
    return { answer: '408 RequestTimeout, connection closed', ms: elapsed };
  });
}

const upstreamRows: FaultRow[] = [
  {
    id: 'upstream-hangs',
    group: 'upstream',
    fault: 'upstream accepts the call and never answers',
    expected: `504 GatewayTimeout, after upstream.timeout (${UPSTREAM_TIMEOUT}) and within it + ${SLACK_MS / 1000} s`,
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      stub.respond(() => ({ hang: true }));
      const { answer } = await upstreamRow(stub.url, UPSTREAM_TIMEOUT, 504, 'GatewayTimeout', () => stub.close());
      expect(answer.ms).toBeGreaterThanOrEqual(ms(UPSTREAM_TIMEOUT) - 5);
      expect(answer.ms).toBeLessThan(ms(UPSTREAM_TIMEOUT) + SLACK_MS);
      return { answer: said(answer), ms: answer.ms };
    },
  },
  {
    id: 'upstream-refuses',
    group: 'upstream',
    fault: 'upstream refuses connections (nothing listens)',
    expected: `502 UpstreamError, well before upstream.timeout (${LONG_UPSTREAM_TIMEOUT})`,
    fast: true,
    async run() {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const { answer, lines } = await upstreamRow(endpoint, LONG_UPSTREAM_TIMEOUT, 502, 'UpstreamError', async () => {});
      expect(lines.find((l) => l.path === '/flows/hello/run')).toMatchObject({ upstreamCode: 'network' });
      expect(answer.ms).toBeLessThan(ms(LONG_UPSTREAM_TIMEOUT) / 2);
      return { answer: said(answer), ms: answer.ms };
    },
  },
  {
    id: 'upstream-resets-mid-body',
    group: 'upstream',
    fault: 'upstream sends its head and half a body, then resets the connection',
    expected: `502 UpstreamError, well before upstream.timeout (${LONG_UPSTREAM_TIMEOUT})`,
    fast: true,
    async run() {
      const raw = await startRawUpstream((socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"RequestId":"R","Status":"Succ', () =>
          socket.resetAndDestroy(),
        );
      });
      const { answer } = await upstreamRow(raw.url, LONG_UPSTREAM_TIMEOUT, 502, 'UpstreamError', () => raw.close());
      expect(raw.requests).toBe(1);
      expect(answer.ms).toBeLessThan(ms(LONG_UPSTREAM_TIMEOUT) / 2);
      return { answer: said(answer), ms: answer.ms };
    },
  },
  {
    id: 'upstream-5xx',
    group: 'upstream',
    fault: 'upstream answers 500 InternalError / 503 ServiceUnavailable',
    expected: '502 UpstreamError (generic: the upstream text is not passed on), at once',
    fast: true,
    async run() {
      let slowest = 0;
      for (const [status, code] of [
        [500, 'InternalError'],
        [503, 'ServiceUnavailable'],
      ] as const) {
        const stub = await startUpstreamStub();
        stub.respond(() => upstreamError(status, code, 'secret-ish upstream detail'));
        const { answer } = await upstreamRow(stub.url, LONG_UPSTREAM_TIMEOUT, 502, 'UpstreamError', () => stub.close());
        expect(answer.text).not.toContain('secret-ish upstream detail');
        slowest = Math.max(slowest, answer.ms);
      }
      expect(slowest).toBeLessThan(ms(LONG_UPSTREAM_TIMEOUT) / 2);
      return { answer: '502 UpstreamError (both)', ms: slowest };
    },
  },
  {
    id: 'upstream-429',
    group: 'upstream',
    fault: 'upstream answers 429 ResourceThrottled',
    expected: '429 ResourceThrottled with Retry-After, at once',
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      stub.respond(() => upstreamError(429, 'ResourceThrottled', 'The request is throttled.'));
      const { answer } = await upstreamRow(stub.url, LONG_UPSTREAM_TIMEOUT, 429, 'ResourceThrottled', () => stub.close());
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(answer.ms).toBeLessThan(ms(LONG_UPSTREAM_TIMEOUT) / 2);
      return { answer: `${said(answer)}, Retry-After: ${answer.headers.get('retry-after')}`, ms: answer.ms };
    },
  },
  {
    id: 'upstream-not-json',
    group: 'upstream',
    fault: 'upstream answers 200 with an HTML body',
    expected: '502 UpstreamError, at once',
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      stub.respond(() => ({ status: 200, raw: '<html><body>502 Bad Gateway</body></html>', headers: { 'content-type': 'text/html' } }));
      const { answer } = await upstreamRow(stub.url, LONG_UPSTREAM_TIMEOUT, 502, 'UpstreamError', () => stub.close());
      expect(answer.text).not.toContain('html');
      return { answer: said(answer), ms: answer.ms };
    },
  },
  {
    id: 'upstream-no-status',
    group: 'upstream',
    fault: 'upstream answers 200 with JSON that has no `Status`',
    expected: '502 UpstreamError, at once',
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      stub.respond(() => ({ json: { RequestId: 'R', Name: 'x:11111111-2222-4333-8444-555555555555', Output: '{"a":1}' } }));
      const { answer, lines } = await upstreamRow(stub.url, LONG_UPSTREAM_TIMEOUT, 502, 'UpstreamError', () => stub.close());
      expect(lines.find((l) => l.path === '/flows/hello/run')?.detail).toMatch(/without Status/);
      return { answer: said(answer), ms: answer.ms };
    },
  },
  {
    id: 'upstream-slow-body',
    group: 'upstream',
    fault: 'upstream sends its head, then the body one byte every 100 ms (longer than the deadline)',
    expected: `504 GatewayTimeout, after upstream.timeout (${UPSTREAM_TIMEOUT}) and within it + ${SLACK_MS / 1000} s`,
    fast: true,
    async run() {
      const body = JSON.stringify(succeeded({ slow: true }).json);
      const timers = new Set<NodeJS.Timeout>();
      const raw = await startRawUpstream((socket) => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
        let sent = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || sent === body.length) return void clearInterval(timer);
          socket.write(body[sent++]!);
        }, 100);
        timers.add(timer);
      });
      const { answer } = await upstreamRow(raw.url, UPSTREAM_TIMEOUT, 504, 'GatewayTimeout', async () => {
        for (const timer of timers) clearInterval(timer);
        await raw.close();
      });
      expect(answer.ms).toBeGreaterThanOrEqual(ms(UPSTREAM_TIMEOUT) - 5);
      expect(answer.ms).toBeLessThan(ms(UPSTREAM_TIMEOUT) + SLACK_MS);
      return { answer: said(answer), ms: answer.ms };
    },
  },
];

/** A flow with a per-caller limit: its answers carry `RateLimit` while the store answers, and not when it fails open. */
function redisConfig(endpoint: string, store: string, onError: 'open' | 'closed') {
  return gatewayConfig(endpoint, {
    store,
    storeOptions: { timeout: STORE_TIMEOUT, onError, keyPrefix: `reliability:${Math.random().toString(36).slice(2)}:` },
    callers: { soak: { apiKeys: [KEY], rateLimit: { rate: '100000/s', burst: 100000 } } },
    flows: { hello: { flowName: 'hello_world', access: 'authenticated', cache: { ttl: '60s' } } },
  });
}

const redisRows: FaultRow[] = [
  {
    id: 'redis-down-at-start-open',
    group: 'redis',
    fault: 'Redis not running when the gateway starts (storeOptions.onError: open)',
    expected: `200, served without limiter and cache (no RateLimit header), within storeOptions.timeout (${STORE_TIMEOUT}) x 4 + ${SLACK_MS / 1000} s`,
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      const gw = await loggedGateway(redisConfig(stub.url, `redis://127.0.0.1:${await closedPort()}`, 'open'));
      return withGateway(gw, async () => {
        const answer = await run(gw, { 'x-api-key': KEY });
        await stub.close();
        expect(answer.status).toBe(200);
        expect(answer.headers.get('ratelimit')).toBeNull();
        expect(answer.ms).toBeLessThan(ms(STORE_TIMEOUT) * 4 + SLACK_MS);
        expect(gw.lines.find((l) => l.path === '/flows/hello/run')).toMatchObject({ rateLimitStore: 'unavailable' });
        return { answer: `${said(answer)}, no RateLimit header, log rateLimitStore: unavailable`, ms: answer.ms };
      });
    },
  },
  {
    id: 'redis-down-at-start-closed',
    group: 'redis',
    fault: 'Redis not running when the gateway starts (storeOptions.onError: closed)',
    expected: `503 ServiceUnavailable with Retry-After, upstream not called, within storeOptions.timeout (${STORE_TIMEOUT}) x 4 + ${SLACK_MS / 1000} s`,
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      const gw = await loggedGateway(redisConfig(stub.url, `redis://127.0.0.1:${await closedPort()}`, 'closed'));
      return withGateway(gw, async () => {
        const answer = await run(gw, { 'x-api-key': KEY });
        await stub.close();
        expectEnvelope(answer, 503, 'ServiceUnavailable');
        expect(answer.headers.get('retry-after')).not.toBeNull();
        expect(stub.calls).toHaveLength(0);
        expect(answer.ms).toBeLessThan(ms(STORE_TIMEOUT) * 4 + SLACK_MS);
        return { answer: `${said(answer)}, Retry-After: ${answer.headers.get('retry-after')}`, ms: answer.ms };
      });
    },
  },
  {
    id: 'redis-killed-under-load',
    group: 'redis',
    fault: 'Redis SIGKILLed while 8 clients send requests back to back',
    expected: `every request answered 200 (fail open), none slower than storeOptions.timeout (${STORE_TIMEOUT}) + ${SLACK_MS / 1000} s`,
    fast: false,
    async run() {
      const redis = await startDedicatedRedis();
      const stub = await startUpstreamStub();
      const gw = await loggedGateway(redisConfig(stub.url, redis.url, 'open'));
      try {
        const answers: Answer[] = [];
        let killedAt = 0;
        const killed = gate();
        const client = async () => {
          while (answers.length < 400) {
            // Distinct bodies: each is a cache miss, so the limiter, the cache lookup and the cache write all use Redis.
            const answer = await run(gw, { 'x-api-key': KEY }, JSON.stringify({ n: answers.length, r: Math.random() }));
            answers.push(answer);
            if (answers.length === 150 && !killedAt) {
              killedAt = answers.length;
              void redis.kill().then(() => killed.open());
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, client));
        await killed.opened;
        expect(answers.every((a) => a.status === 200)).toBe(true);
        const slowest = Math.max(...answers.slice(killedAt).map((a) => a.ms));
        expect(slowest).toBeLessThan(ms(STORE_TIMEOUT) + SLACK_MS);
        const failedOpen = gw.lines.filter((l) => l.rateLimitStore === 'unavailable').length;
        expect(failedOpen).toBeGreaterThan(0);
        return { answer: `${answers.length}/${answers.length} answered 200; ${failedOpen} served without the store after the kill`, ms: slowest };
      } finally {
        await gw.close();
        await stub.close();
        await redis.stop();
      }
    },
  },
  {
    id: 'redis-paused',
    group: 'redis',
    fault: 'Redis SIGSTOPped (connection open, no answers) for longer than storeOptions.timeout, then SIGCONTed',
    expected: `200 without RateLimit while paused, after storeOptions.timeout (${STORE_TIMEOUT}) and within it + ${SLACK_MS / 1000} s; RateLimit back after resume`,
    fast: true,
    async run() {
      const redis = await startDedicatedRedis();
      const stub = await startUpstreamStub();
      const gw = await loggedGateway(redisConfig(stub.url, redis.url, 'open'));
      const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        // A decided request first: on a busy machine one Redis answer can itself miss the 250 ms deadline, and
        // the row is about what a stopped server does, not about the first answer's speed.
        const before = await decidedAnswer(gw, 'before');
        expect(before.status).toBe(200);
        expect(before.headers.get('ratelimit')).not.toBeNull();
        redis.pause();
        const paused: Answer[] = [];
        for (let i = 0; i < 3; i++) paused.push(await run(gw, { 'x-api-key': KEY }, JSON.stringify({ phase: 'paused', i })));
        redis.resume();
        // The server answers again once it has worked through what queued while it was stopped.
        await probe.connect();
        expect(await probe.ping()).toBe('PONG');
        const after = await decidedAnswer(gw, 'after');
        for (const answer of paused) {
          expect(answer.status).toBe(200);
          expect(answer.headers.get('ratelimit')).toBeNull();
          expect(answer.ms).toBeGreaterThanOrEqual(ms(STORE_TIMEOUT) - 5);
          expect(answer.ms).toBeLessThan(ms(STORE_TIMEOUT) * 3 + SLACK_MS);
        }
        expect(after.status).toBe(200);
        expect(after.headers.get('ratelimit')).not.toBeNull();
        const slowest = Math.max(...paused.map((a) => a.ms));
        return { answer: `paused: ${paused.length}x 200 without RateLimit; resumed: 200 with RateLimit`, ms: slowest };
      } finally {
        redis.resume();
        probe.disconnect();
        await gw.close();
        await stub.close();
        await redis.stop();
      }
    },
  },
];

const clientRows: FaultRow[] = [
  {
    id: 'client-aborts-mid-request',
    group: 'client',
    fault: 'client sends the head and 5 of 1000 body bytes, then resets',
    expected: 'upstream never called; the request is logged and released at once; the next request is served',
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      const gw = await loggedGateway(gatewayConfig(stub.url));
      return withGateway(gw, async () => {
        const socket = await rawSocket(gw.url);
        socket.on('error', () => {});
        socket.write('POST /flows/hello/run HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":');
        await new Promise<void>((resolve) => socket.write('', () => resolve()));
        const abortedAt = performance.now();
        socket.resetAndDestroy();
        const line = await gw.logged((l) => l.path === '/flows/hello/run');
        const released = performance.now() - abortedAt;
        const next = await run(gw);
        await stub.close();
        expect(stub.calls).toHaveLength(1);
        expect(next.status).toBe(200);
        expect(released).toBeLessThan(SLACK_MS);
        return { answer: `no upstream call; logged with status ${String(line.status)}; next request ${next.status}`, ms: released };
      });
    },
  },
  {
    id: 'client-aborts-mid-response',
    group: 'client',
    fault: 'client hangs up while its execution runs upstream',
    expected: 'the execution runs to its end (CloudFlow would not stop it), is logged, and the gateway keeps serving',
    fast: true,
    async run() {
      const stub = await startUpstreamStub();
      const upstream = gate();
      stub.respond(async (call) => {
        if (call.form.Input === '{"hang":"up"}') await upstream.opened;
        return succeeded({ ok: true }, call);
      });
      const gw = await loggedGateway(gatewayConfig(stub.url));
      return withGateway(gw, async () => {
        const req = httpRequest(`${gw.url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' } });
        req.on('error', () => {});
        req.end('{"hang":"up"}');
        await stub.received(1);
        req.destroy();
        await new Promise<void>((resolve) => req.once('close', () => resolve()));
        const openedAt = performance.now();
        upstream.open();
        const line = await gw.logged((l) => l.path === '/flows/hello/run');
        const released = performance.now() - openedAt;
        const next = await run(gw);
        await stub.close();
        expect(next.status).toBe(200);
        expect(stub.calls).toHaveLength(2);
        expect(released).toBeLessThan(SLACK_MS);
        return { answer: `execution completed upstream, logged with status ${String(line.status)}; next request ${next.status}`, ms: released };
      });
    },
  },
  {
    id: 'client-slow-headers',
    group: 'client',
    fault: 'client trickles header lines every 100 ms and never ends the head',
    expected: `408 RequestTimeout in the envelope and the connection closed, after server.headersTimeout (500 ms) and within it + ${SLACK_MS / 1000} s`,
    fast: true,
    run: () => tricklesInto408('POST /flows/hello/run HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 500),
  },
  {
    id: 'client-slow-body',
    group: 'client',
    fault: 'client sends the head, then the body one byte every 100 ms',
    expected: `408 RequestTimeout in the envelope and the connection closed, after server.requestTimeout (1 s) and within it + ${SLACK_MS / 1000} s; upstream not called`,
    fast: true,
    run: () => tricklesInto408('POST /flows/hello/run HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n', ' ', 1_000),
  },
];

/** The built CLI serving `config` (written to a scratch file), and its listening URL. */
async function servedProcess(config: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-faults-'));
  const file = join(dir, 'flowgate.json');
  writeFileSync(file, JSON.stringify(config));
  const cli = await spawnCli(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1']);
  const [, url] = await cli.waitFor(/listening on (http:\/\/[^\s]+)/, 30_000);
  return { cli, url: url!, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const SHUTDOWN_TIMEOUT = '10s';

const processRows: FaultRow[] = [
  {
    id: 'process-sigterm-50-in-flight',
    group: 'process',
    fault: 'SIGTERM to the gateway process with 50 requests in flight upstream',
    expected: `all 50 answered 200; exit code 0; exit within server.shutdownTimeout (${SHUTDOWN_TIMEOUT}) + ${SLACK_MS / 1000} s`,
    fast: false,
    async run() {
      const stub = await startUpstreamStub();
      const upstream = gate();
      stub.respond(async (call) => {
        await upstream.opened;
        return succeeded({ drained: true }, call);
      });
      const served = await servedProcess(
        gatewayConfig(stub.url, {
          upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '60s' },
          server: { shutdownTimeout: SHUTDOWN_TIMEOUT },
        }),
      );
      try {
        const pending = Array.from({ length: 50 }, (_, i) => run(served, {}, JSON.stringify({ i })).catch((error: Error) => error));
        await stub.received(50);
        const signalledAt = performance.now();
        served.cli.child.kill('SIGTERM');
        await served.cli.waitFor(/draining requests in flight/);
        upstream.open();
        const answers = await Promise.all(pending);
        const code = await served.cli.exit();
        const exitMs = performance.now() - signalledAt;
        const ok = answers.filter((a) => !(a instanceof Error) && a.status === 200).length;
        expect(ok).toBe(50);
        expect(code).toBe(0);
        expect(exitMs).toBeLessThan(ms(SHUTDOWN_TIMEOUT) + SLACK_MS);
        return { answer: `${ok}/50 answered 200; exit code ${code}`, ms: exitMs };
      } finally {
        upstream.open();
        if (served.cli.child.exitCode === null) served.cli.child.kill('SIGKILL');
        served.cleanup();
        await stub.close();
      }
    },
  },
  {
    id: 'process-sigterm-stuck-upstream',
    group: 'process',
    fault: 'SIGTERM with 50 requests in flight to an upstream that never answers',
    expected: 'the process exits at server.shutdownTimeout (1 s), within it + 5 s; the 50 connections are closed, none left hanging',
    fast: false,
    async run() {
      const stub = await startUpstreamStub();
      stub.respond(() => ({ hang: true }));
      const served = await servedProcess(
        gatewayConfig(stub.url, { upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '60s' }, server: { shutdownTimeout: '1s' } }),
      );
      try {
        const pending = Array.from({ length: 50 }, (_, i) => run(served, {}, JSON.stringify({ i })).catch((error: Error) => error));
        await stub.received(50);
        const signalledAt = performance.now();
        served.cli.child.kill('SIGTERM');
        const exited = served.cli.exit();
        // A bound, not a pause: a process that outlives it fails the row instead of hanging the run.
        let bound: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<'running'>((resolve) => (bound = setTimeout(() => resolve('running'), 1_000 + SLACK_MS)))]);
        clearTimeout(bound);
        if (code === 'running') throw new Error(`still running ${1_000 + SLACK_MS} ms after SIGTERM: ${served.cli.stderr()}`);
        const exitMs = performance.now() - signalledAt;
        const outcomes = await Promise.all(pending);
        const closed = outcomes.filter((a) => a instanceof Error).length;
        expect(exitMs).toBeGreaterThanOrEqual(1_000 - 5);
        expect(exitMs).toBeLessThan(1_000 + SLACK_MS);
        expect(code).toBe(0);
        expect(outcomes).toHaveLength(50);
        return { answer: `exit code ${code}; ${closed}/50 connections closed without an answer at the deadline`, ms: exitMs };
      } finally {
        if (served.cli.child.exitCode === null) served.cli.child.kill('SIGKILL');
        served.cleanup();
        await stub.close();
      }
    },
  },
];

/** How long a `Running` record outlives its process before it reads as `Unknown` (README, "mode: ack"). */
const LEASE_MARGIN_MS = 30_000;

/**
 * Accepted `mode: ack` runs still at the upstream when the process goes away: killed (SIGKILL), or stopped
 * (SIGTERM) with the runs outlasting `server.shutdownTimeout`. None may be lost, and none may claim an outcome
 * it does not know: another process reads each at GET /executions/{name} as `Running`, then `Unknown` once
 * the lease has passed (on that reader's injected clock).
 */
function ackLossRow(signal: 'SIGKILL' | 'SIGTERM'): FaultRow {
  const shutdownTimeout = '1s';
  return {
    id: signal === 'SIGKILL' ? 'process-sigkill-ack-runs' : 'process-sigterm-ack-runs-outlast-shutdown',
    group: 'process',
    fault:
      signal === 'SIGKILL'
        ? 'SIGKILL to the gateway process (store: redis) with 20 accepted `mode: ack` runs still at the upstream'
        : `SIGTERM to the gateway process (store: redis) with 20 accepted \`mode: ack\` runs that outlast server.shutdownTimeout (${shutdownTimeout})`,
    expected:
      'no accepted run lost: all 20 readable at GET /executions/{name} from another gateway process: `Running`, then `Unknown` once the lease (upstream.timeout + 30 s, on an injected clock) has passed',
    // The SIGTERM case keeps the shutdown order honest (the store closes before the upstream calls are cut).
    fast: signal === 'SIGTERM',
    async run() {
      const redis = await startDedicatedRedis();
      const stub = await startUpstreamStub();
      stub.respond(() => ({ hang: true }));
      const timeout = '5s';
      const config = gatewayConfig(stub.url, {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout },
        server: { shutdownTimeout },
        store: redis.url,
        storeOptions: { keyPrefix: `reliability:${Math.random().toString(36).slice(2)}:` },
        flows: { acked: { flowName: 'hello_world', access: 'public', mode: 'ack' } },
      });
      const served = await servedProcess(config);
      let clockMs = Date.now();
      const reader = await loggedGateway(config, { clock: { now: () => clockMs } });
      try {
        const accepted = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`${served.url}/flows/acked/run`, { body: JSON.stringify({ i }) })));
        for (const answer of accepted) expect(answer.status, answer.text).toBe(202);
        await stub.received(20);
        served.cli.child.kill(signal);
        const code = await served.cli.exit();
        const names = accepted.map((a) => String(a.json!.ExecutionName));
        const statuses = async () => {
          const answers = await Promise.all(names.map((name) => send(`${reader.url}/executions/${name}`)));
          for (const answer of answers) expect(answer.status, answer.text).toBe(200);
          return { statuses: answers.map((a) => a.json!.Status), ms: Math.max(...answers.map((a) => a.ms)) };
        };
        const before = await statuses();
        expect(before.statuses).toEqual(names.map(() => 'Running'));
        // The lease runs from each start: move the reader's clock past the last of them.
        clockMs = Date.now() + ms(timeout) + LEASE_MARGIN_MS + 1;
        const after = await statuses();
        expect(after.statuses).toEqual(names.map(() => 'Unknown'));
        if (signal === 'SIGTERM') expect(code).toBe(0);
        return { answer: '20/20 readable: Running, then Unknown after the lease; none lost', ms: Math.max(before.ms, after.ms) };
      } finally {
        if (served.cli.child.exitCode === null && served.cli.child.signalCode === null) served.cli.child.kill('SIGKILL');
        served.cleanup();
        await reader.close();
        await stub.close();
        await redis.stop();
      }
    },
  };
}

const lossRows: FaultRow[] = [ackLossRow('SIGKILL'), ackLossRow('SIGTERM')];

const HELLO_FLOW = {
  Type: 'StateMachine',
  SpecVersion: 'v1',
  Name: 'hello_world',
  ExecutionMode: 'Express',
  StartAt: 'Done',
  States: [{ Type: 'Pass', Name: 'Done', End: true }],
};

/** The gateway with its clock `skewMs` away from the emulator's (the system clock): the signature's date is off. */
function clockRow(skewMinutes: number): FaultRow {
  const sign = skewMinutes > 0 ? '+' : '-';
  return {
    id: `clock-skew-${skewMinutes > 0 ? 'ahead' : 'behind'}`,
    group: 'clock',
    fault: `gateway clock ${sign}${Math.abs(skewMinutes)} min against the emulator`,
    expected: '502 UpstreamError (generic), the upstream code in the log; the same gateway unskewed answers 200',
    fast: true,
    async run() {
      const emulator = await startEmulator({ flows: { hello_world: HELLO_FLOW } });
      let skew = 0;
      const gw = await loggedGateway(gatewayConfig(emulator.url), { clock: { now: () => Date.now() + skew } });
      try {
        const control = await run(gw);
        expect(control.status, control.text).toBe(200);
        skew = skewMinutes * 60_000;
        const answer = await run(gw);
        expectEnvelope(answer, 502, 'UpstreamError');
        const line = gw.lines.filter((l) => l.path === '/flows/hello/run').at(-1)!;
        expect(String(line.upstreamCode)).toMatch(/Time|Date|Expired|Skew/i);
        return { answer: `${said(answer)}; log upstreamCode ${String(line.upstreamCode)}`, ms: answer.ms };
      } finally {
        await gw.close();
        await emulator.stop(0);
      }
    },
  };
}

export const FAULT_ROWS: FaultRow[] = [...upstreamRows, ...redisRows, ...clientRows, ...processRows, ...lossRows, clockRow(20), clockRow(-20)];
