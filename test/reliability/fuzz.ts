import { createHmac } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { manualClock } from '../../src/lib/clock.js';
import type { LogLine } from '../../src/log.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, succeeded, upstreamError, type InProcessUpstream, type ReceivedCall, type StubAnswer } from '../helpers/upstream-stub.js';
import { HMAC_SCHEME, NOW_MS, standardWebhooksSecret } from '../webhooks/support.js';

/**
 * Hostile input against the gateway in process (createApp with the Node runtime's stores): bodies, headers,
 * paths and query strings from fast-check, and an upstream that answers each case as the case says. After
 * every case the properties below must hold; `runFuzz` throws fast-check's report (seed, path, shrunk
 * counterexample) when one does not.
 *
 * - no 5xx other than a mapped upstream failure (the upstream was called in this case, or the answer is a
 *   replay of one, and the code is one the mapping table gives);
 * - no uncaught exception or unhandled rejection;
 * - no secret (the AccessKey secret, webhook secrets, API keys) in an answer or a log line;
 * - every answer is a success (2xx) or the error envelope (RequestId, Code, Message, JSON);
 * - memory stays bounded: the heap after a full GC, checked every `checkEvery` cases, stays within
 *   `HEAP_GROWTH_LIMIT` of the heap after the first checkpoint.
 */

/** Secrets the configuration holds: none may ever appear in an answer or a log line. */
export const SECRETS = {
  accessKeySecret: 'fz-access-secret-6c1f0b9e2a7d4e3f',
  appKey: 'fz-app-key-71c2e9d04b3a5f68aa',
  limitedKey: 'fz-limited-key-5b4a39281706f5e4',
  adminKey: 'fz-admin-key-0d9e8c7b6a5f4e3d',
  github: 'fz-gh-secret-5e4d3c2b1a0f9e8d',
  stripe: 'whsec_fzStripe7a6b5c4d3e2f1a0b',
  slack: 'fz-slack-secret-9f8e7d6c5b4a3f2e',
  standard: standardWebhooksSecret('fz-standard-endpoint-seed'),
  hmac: 'fz-hmac-secret-1a2b3c4d5e6f7a8b',
} as const;

/** The bytes that give a secret away, for each secret: itself, and the base64 key inside a Standard Webhooks secret. */
const SECRET_MARKERS = [...Object.values(SECRETS), SECRETS.standard.slice('whsec_'.length)];

/** Heap growth allowed over the run, after GC: the configured memory-store budgets (4 MiB each) and generous room for V8. */
export const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024;

const FLOWS = ['hello', 'cached', 'orders', 'acked', 'hook-github', 'hook-stripe', 'hook-slack', 'hook-standard', 'hook-hmac'] as const;

function fuzzConfig(endpoint: string): Record<string, unknown> {
  return {
    upstream: { endpoint, credentials: { accessKeyId: 'testid', accessKeySecret: SECRETS.accessKeySecret }, timeout: '2s' },
    storeOptions: { recordsMaxSize: '4MiB', maxKeys: 10_000 },
    cache: { maxSize: '4MiB', maxEntrySize: '256KiB' },
    callers: {
      app: { apiKeys: [SECRETS.appKey], rateLimit: { rate: '100000/s', burst: 100000 } },
      limited: { apiKeys: [SECRETS.limitedKey], rateLimit: { rate: '1/s', burst: 2 } },
      ops: { apiKeys: [SECRETS.adminKey], admin: true },
    },
    flows: {
      hello: {
        flowName: 'hello_world',
        access: 'public',
        qualifier: '1',
        qualifiers: ['1', 'prod'],
        errors: { OrderNotFound: 404, InvalidOrder: 422 },
        maxInputSize: '16KiB',
      },
      cached: { access: 'authenticated', cache: { ttl: '60s' } },
      orders: { access: 'authenticated', idempotency: { ttl: '1h', required: true }, inputSchema: { type: 'object', properties: { n: { type: 'number' } } } },
      acked: { access: 'public', mode: 'ack' },
      'hook-github': { webhook: { provider: 'github', secrets: [SECRETS.github] } },
      'hook-stripe': { webhook: { provider: 'stripe', secrets: [SECRETS.stripe] } },
      'hook-slack': { webhook: { provider: 'slack', secrets: [SECRETS.slack] } },
      'hook-standard': { webhook: { provider: 'standard-webhooks', secrets: [SECRETS.standard] } },
      'hook-hmac': { webhook: { provider: 'hmac', ...HMAC_SCHEME, secrets: [SECRETS.hmac] } },
    },
  };
}

// ------------------------------------------------------------------------------------------ generators

/** Text that can be a header value: Latin-1 without controls other than tab (Headers refuses the rest, as a wire parser would). */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c)),
    maxLength,
  });

const edgeNumbers = fc.constantFrom(
  '0',
  '-0',
  '1e309',
  '-1e309',
  '1e-400',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890123456789012345678901234567890',
  '0.1e-5',
  '1E+2',
  '1.7976931348623157e308',
  '5e-324',
  '01',
  '.5',
  '1.',
  'NaN',
  'Infinity',
  '0x10',
);

const unicodeEdges = fc.constantFrom(
  '\ud800',
  '\udfff',
  '\ud83d',
  '\ud83d\ude00',
  '\ufeff',
  '\u0000',
  '\u2028\u2029',
  '\uffff',
  '\ufffe',
  '\u202e',
  'e\u0301',
  '\\ud800',
  '\\udc00\\ud800',
  '\\u0000',
  '\\uZZZZ',
  '𝕏'.repeat(40),
);

/** A JSON text made by hand: values and keys that JSON.stringify never writes (duplicates, lone surrogates, edge numbers). */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    edgeNumbers,
    fc.constantFrom('true', 'false', 'null'),
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
    unicodeEdges.map((s) => `"${s}"`),
    fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom('a', 'a', '__proto__', 'constructor', ''), fc.string({ maxLength: 8 })), tie('value')), { maxLength: 6 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** Valid JSON, then one edit: a character dropped, doubled or replaced. */
const nearJson = fc
  .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.constantFrom('drop', 'double', 'replace'), fc.constantFrom('{', '}', '"', ',', ':', '\\', ']', ' ', 'x'))
  .map(([text, at, edit, ch]) => {
    const i = text.length ? at % text.length : 0;
    if (edit === 'drop') return text.slice(0, i) + text.slice(i + 1);
    if (edit === 'double') return text.slice(0, i) + text[i] + text.slice(i);
    return text.slice(0, i) + ch + text.slice(i + 1);
  });

const deepJson = fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([depth, open, closed]) => {
  const close = open === '[' ? ']' : '}';
  return open.repeat(depth) + '1' + (closed ? close.repeat(depth) : '');
});

const wideJson = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([width, asArray]) => (asArray ? `[${'0,'.repeat(width)}0]` : `{${Array.from({ length: width }, (_, i) => `"k${i}":${i}`).join(',')}}`));

/** Strings around the limits: the flow's Input limit (16 KiB here, 64 KiB default) and the body limit (1 MiB). */
const hugeString = fc
  .tuple(fc.constantFrom(16 * 1024, 64 * 1024, 1024 * 1024), fc.integer({ min: -64, max: 64 }), fc.constantFrom('a', 'é', '\ud83d\ude00', '\\n'))
  .map(([size, delta, unit]) => `{"s":"${unit.repeat(Math.max(0, Math.floor((size + delta - 8) / Buffer.byteLength(unit))))}"}`);

const duplicateKeys = fc.tuple(fc.json({ maxDepth: 1 }), fc.json({ maxDepth: 1 })).map(([a, b]) => `{"n":${a},"n":${b},"__proto__":{"polluted":true}}`);

/** A body as bytes: some are not UTF-8 at all. */
const body: fc.Arbitrary<Uint8Array | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 3 },
  { arbitrary: fc.json({ maxDepth: 4 }).map(utf8), weight: 4 },
  { arbitrary: jsonText.map(utf8), weight: 6 },
  { arbitrary: nearJson.map(utf8), weight: 3 },
  { arbitrary: deepJson.map(utf8), weight: 2 },
  { arbitrary: wideJson.map(utf8), weight: 1 },
  { arbitrary: hugeString.map(utf8), weight: 1 },
  { arbitrary: duplicateKeys.map(utf8), weight: 2 },
  // Lone surrogates and overlong or truncated sequences as raw bytes: no encoder writes these.
  { arbitrary: fc.constantFrom('{"a":"\xed\xa0\x80"}', '{"a":"\xc0\xaf"}', '{"a":"\xf0\x9f"}', '\xef\xbb\xbf{}', '{"a":"\xff"}').map(latin1), weight: 2 },
);

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const segment = fc.oneof(
  { arbitrary: fc.constantFrom(...FLOWS), weight: 8 },
  { arbitrary: fc.constantFrom('', '..', '%2e%2e', 'hello%2F..%2Fcached', 'HELLO', 'hello ', '%00', '%ff', '%', 'a%2', '__proto__', 'constructor'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent), weight: 1 },
);

const query = fc.oneof(
  { arbitrary: fc.constant(''), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      '?qualifier=1',
      '?qualifier=prod',
      '?qualifier=2',
      '?qualifier=',
      '?qualifier=1&qualifier=prod',
      '?caller=app',
      '?caller=webhook%3Agithub',
      '?caller=',
    ),
    weight: 3,
  },
  {
    arbitrary: fc
      .array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 })), { maxLength: 4 })
      .map((pairs) => `?${new URLSearchParams(pairs)}`),
    weight: 1,
  },
  { arbitrary: fc.string({ maxLength: 60 }).map((s) => `?${s.replace(/#/g, '%23')}`), weight: 1 },
);

const path = fc.oneof(
  { arbitrary: fc.tuple(segment, query).map(([name, q]) => `/flows/${name}/run${q}`), weight: 12 },
  {
    arbitrary: fc
      .tuple(fc.oneof(fc.constantFrom('fg_1', 'x'), fc.string({ maxLength: 200 }).map(encodeURIComponent)), query)
      .map(([name, q]) => `/executions/${name}${q}`),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(
      '/flows',
      '/healthz',
      '/readyz',
      '/openapi.json',
      '/',
      '/flows/hello',
      '/flows/hello/run/',
      '//flows/hello/run',
      '/flows/hello/run/x',
    ),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 80 }).map((s) => `/${encodeURI(s.replace(/[?#]/g, ''))}`), weight: 1 },
);

const contentType = fc.oneof(
  { arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json'), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'application/json;charset="utf-8"',
      'application/json; charset',
      'application/jsonx',
      'application/+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
      ';',
    ),
    weight: 2,
  },
  { arbitrary: headerText(60), weight: 1 },
);

/** Absent `absentWeight` times out of `absentWeight + 1`: hostile values are common enough to matter, rare enough that most requests still reach the flow. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, absentWeight = 4) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: absentWeight }, { arbitrary, weight: 1 });

/** Optional headers, each present or not, valid-looking or hostile. */
const headerArb = fc.record({
  'content-type': fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: contentType, weight: 12 }),
  'content-encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', 'deflate, gzip', 'x'), 12),
  'x-request-id': sometimes(fc.oneof(fc.uuid(), headerText(300)), 2),
  'x-execution-name': sometimes(fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/), headerText(200))),
  'idempotency-key': fc.oneof(
    fc.constant(undefined),
    fc.uuid().map((u) => `"${u}"`),
    fc.uuid(),
    fc.constantFrom('"k-1"', 'k-1'),
    headerText(300),
  ),
  'cache-control': sometimes(
    fc.oneof(
      fc.constantFrom(
        'no-cache',
        'no-store',
        'max-age=0',
        'max-age=5, max-age=1',
        'only-if-cached',
        'max-age=-1',
        'max-age=99999999999999999999',
        'no-cache="x"',
      ),
      headerText(60),
    ),
  ),
  'x-api-key': fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constantFrom(SECRETS.appKey, SECRETS.appKey, SECRETS.limitedKey, SECRETS.adminKey), weight: 4 },
    { arbitrary: headerText(80), weight: 1 },
  ),
  authorization: sometimes(fc.oneof(fc.constantFrom(`Bearer ${SECRETS.appKey}`, 'Bearer ', 'Bearer a.b.c', 'Basic eDp5'), headerText(120)), 8),
  accept: sometimes(fc.constantFrom('application/json', '*/*', 'text/html')),
  'x-forwarded-for': sometimes(fc.oneof(fc.constantFrom('203.0.113.7', '::1', 'unknown', '1.2.3.4, 5.6.7.8'), headerText(60))),
  'accept-encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', '*')),
});

/** How webhook headers are made for a case: signed by the sender's secret over the body sent, or hostile. */
const signing = fc.constantFrom('valid', 'valid', 'valid', 'stale', 'wrong-secret', 'garbage', 'none');
const upstreamBehaviour = fc.constantFrom(
  'echo',
  'echo',
  'echo',
  'echo',
  'failed-mapped',
  'failed-unmapped',
  'timed-out',
  'stopped',
  'throttled',
  'error-5xx',
  'not-json',
  'no-status',
  'output-not-json',
);
type Behaviour =
  'echo' | 'failed-mapped' | 'failed-unmapped' | 'timed-out' | 'stopped' | 'throttled' | 'error-5xx' | 'not-json' | 'no-status' | 'output-not-json';

const method = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 12 },
  { arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'), weight: 2 },
);

export const fuzzCase = fc.record({
  /**
   * A plausible request (JSON content type, a known API key, a valid webhook signature, no content coding)
   * carrying the generated body and the other headers: hostile bodies then reach parsing, limits, the
   * cache, the records and the upstream, instead of stopping at the first check.
   */
  plausible: fc.boolean(),
  method,
  path,
  body,
  headers: headerArb,
  signing,
  signingJunk: headerText(120),
  behaviour: upstreamBehaviour,
  /** Clock steps between cases, so limits refill, records expire and webhook timestamps age. */
  advanceMs: fc.constantFrom(0, 0, 100, 1000, 60_000),
});
export type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

// ------------------------------------------------------------------------------------------ the upstream

function answerFor(behaviour: Behaviour, call: ReceivedCall): StubAnswer {
  const base = succeeded({ echo: call.form.Input === undefined ? null : safeParse(call.form.Input) }, call);
  const json = base.json as Record<string, unknown>;
  switch (behaviour) {
    case 'echo':
      return base;
    case 'failed-mapped':
      return { json: { ...json, Status: 'Failed', Output: undefined, ErrorCode: 'OrderNotFound', ErrorMessage: 'no such order' } };
    case 'failed-unmapped':
      return { json: { ...json, Status: 'Failed', Output: undefined, ErrorCode: 'Boom', ErrorMessage: 'it broke' } };
    case 'timed-out':
      return { json: { ...json, Status: 'TimedOut', Output: undefined } };
    case 'stopped':
      return { json: { ...json, Status: 'Stopped', Output: undefined } };
    case 'throttled':
      return upstreamError(429, 'ResourceThrottled', 'The request is throttled.');
    case 'error-5xx':
      return upstreamError(503, 'ServiceUnavailable', 'down');
    case 'not-json':
      return { raw: '<html>oops</html>', headers: { 'content-type': 'text/html' } };
    case 'no-status':
      return { json: { RequestId: 'R', Name: json.Name } };
    case 'output-not-json':
      return { json: { ...json, Output: '{not json' } };
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The codes the mapping table gives an upstream failure; a flow error its flow does not map is a 500 with the flow's own code. */
const UPSTREAM_FAILURE_CODES = new Set(['UpstreamError', 'GatewayTimeout', 'ExecutionTimedOut', 'ExecutionStopped', 'Boom', 'OrderNotFound']);

// ------------------------------------------------------------------------------------------ the properties

export interface FuzzReport {
  runs: number;
  seed: number;
  durationMs: number;
  heapBaselineMiB: number;
  heapMaxGrowthMiB: number;
  statuses: Record<string, number>;
  upstreamCalls: number;
}

function gcFunction(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

async function headersFor(c: FuzzCase, flowPath: string, bodyBytes: Uint8Array | undefined, nowMs: number): Promise<Headers> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(c.headers)) if (value !== undefined) headers.set(name, value);
  if (c.plausible) {
    headers.set('content-type', 'application/json');
    headers.delete('content-encoding');
    headers.delete('authorization');
    headers.set('x-api-key', SECRETS.appKey);
  }
  if (bodyBytes) headers.set('content-length', String(bodyBytes.length));
  const hook = /^\/flows\/hook-(\w+)\/run/.exec(flowPath)?.[1];
  if (!hook) return headers;
  // A sender signs and sends no API key; an API key on a webhook flow is judged as a caller credential.
  if (c.plausible) headers.delete('x-api-key');
  const signing = c.plausible ? 'valid' : c.signing;
  if (signing === 'none') return headers;
  const bytes = Buffer.from(bodyBytes ?? new Uint8Array());
  const secretOf: Record<string, string> = {
    github: SECRETS.github,
    stripe: SECRETS.stripe,
    slack: SECRETS.slack,
    standard: SECRETS.standard,
    hmac: SECRETS.hmac,
  };
  const secret = `${secretOf[hook] ?? 'x'}${signing === 'wrong-secret' ? '-not' : ''}`;
  const seconds = Math.floor(nowMs / 1000) - (signing === 'stale' ? 3600 : 0);
  // Each provider's documented recipe, over the bytes as sent (bodies that are not UTF-8 included).
  const hmac = (algorithm: string, key: string | Buffer, ...parts: (string | Buffer)[]) =>
    parts.reduce((h, part) => h.update(part), createHmac(algorithm, key));
  let signed: Headers;
  if (signing === 'garbage') {
    const junk = c.signingJunk;
    signed = new Headers(
      [
        'x-hub-signature-256',
        'stripe-signature',
        'x-slack-signature',
        'x-slack-request-timestamp',
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
        'x-signature',
        'x-timestamp',
        'x-github-delivery',
      ].map((name): [string, string] => [name, junk]),
    );
  } else if (hook === 'github') {
    signed = new Headers({
      'x-hub-signature-256': `sha256=${hmac('sha256', secret, bytes).digest('hex')}`,
      'x-github-delivery': c.headers['x-request-id'] ?? `d-${seconds}`,
    });
  } else if (hook === 'stripe') {
    signed = new Headers({ 'stripe-signature': `t=${seconds},v1=${hmac('sha256', secret, `${seconds}.`, bytes).digest('hex')}` });
  } else if (hook === 'slack') {
    signed = new Headers({
      'x-slack-signature': `v0=${hmac('sha256', secret, `v0:${seconds}:`, bytes).digest('hex')}`,
      'x-slack-request-timestamp': String(seconds),
    });
  } else if (hook === 'standard') {
    const id = `msg_${seconds}_${bytes.length}`;
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    signed = new Headers({
      'webhook-id': id,
      'webhook-timestamp': String(seconds),
      'webhook-signature': `v1,${hmac('sha256', key, `${id}.${seconds}.`, bytes).digest('base64')}`,
    });
  } else {
    signed = new Headers({ 'x-signature': `sha512=${hmac('sha512', secret, `${seconds}.`, bytes).digest('base64')}`, 'x-timestamp': String(seconds) });
  }
  signed.forEach((value, name) => headers.set(name, value));
  return headers;
}

/**
 * Runs `runs` cases from `seed` and throws on the first property that fails (fast-check's report, with the
 * shrunk case). `checkEvery` sets how often the heap is measured after GC; `progress` reports each measurement on stderr.
 */
export async function runFuzz(options: { runs: number; seed: number; checkEvery?: number; progress?: boolean }): Promise<FuzzReport> {
  const { runs, seed, checkEvery = Math.max(500, Math.floor(runs / 20)) } = options;
  const stub: InProcessUpstream = inProcessUpstream({ secret: SECRETS.accessKeySecret });
  const clock = manualClock(NOW_MS);
  const gw: InProcessGateway = inProcessGateway(fuzzConfig(stub.url), { clock });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const gc = gcFunction();
  let behaviour: Behaviour = 'echo';
  stub.respond((call) => answerFor(behaviour, call));
  const statuses: Record<string, number> = {};
  let cases = 0;
  let upstreamCalls = 0;
  let baseline: number | undefined;
  let maxGrowth = 0;
  const started = performance.now();

  const property = fc.asyncProperty(fuzzCase, async (c) => {
    clock.advance(c.advanceMs);
    behaviour = c.behaviour as Behaviour;
    // The stub keeps every call; only this case's matter, and keeping 100 000 would look like a leak.
    stub.calls.length = 0;
    gw.logs.length = 0;
    const hasBody = c.method !== 'GET' && c.method !== 'HEAD' && c.body !== undefined;
    const bytes = hasBody ? c.body : undefined;
    const headers = await headersFor(c, c.path, bytes, clock.now());
    const res = await gw.fetch(`${gw.url}${c.path}`, { method: c.method, headers, ...(bytes ? { body: bytes as Uint8Array<ArrayBuffer> } : {}) });
    const text = await res.text();
    // Ack runs and cache writes go on after the answer: their log lines and failures belong to this case.
    await gw.drain();
    const called = stub.calls.length > 0;
    upstreamCalls += stub.calls.length;
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const lines: LogLine[] = [...gw.logs];
    gw.logs.length = 0;
    const context = () => `status ${res.status}, body ${text.slice(0, 300)}, log ${JSON.stringify(lines).slice(0, 600)}`;

    if (uncaught.length) throw new Error(`uncaught: ${String(uncaught[0])}`);
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (res.status >= 500) {
      const code = String(json?.Code);
      // A redelivery or a repeated Idempotency-Key gets the stored answer of an earlier case's execution.
      const replayed = res.headers.get('idempotent-replayed') === 'true' || lines.some((l) => l.idempotency === 'replayed');
      if (!UPSTREAM_FAILURE_CODES.has(code) || !(called || replayed)) throw new Error(`a 5xx that is not a mapped upstream failure: ${context()}`);
    }
    if (res.status < 200 || (res.status >= 300 && res.status < 400)) throw new Error(`neither success nor error: ${context()}`);
    if (res.status >= 400 && c.method !== 'HEAD') {
      if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) throw new Error(`an error without JSON: ${context()}`);
      if (!json || typeof json.RequestId !== 'string' || typeof json.Code !== 'string' || typeof json.Message !== 'string') {
        throw new Error(`an error outside the envelope: ${context()}`);
      }
    }
    const answer = `${[...res.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n${text}`;
    const logged = JSON.stringify(lines);
    for (const secret of SECRET_MARKERS) {
      if (answer.includes(secret)) throw new Error(`a secret in the answer: ${context()}`);
      if (logged.includes(secret)) throw new Error(`a secret in a log line: ${context()}`);
    }

    if (++cases % checkEvery === 0) {
      gc();
      const heap = process.memoryUsage().heapUsed;
      baseline ??= heap;
      maxGrowth = Math.max(maxGrowth, heap - baseline);
      if (heap - baseline > HEAP_GROWTH_LIMIT) throw new Error(`heap grew ${(heap - baseline) / 2 ** 20} MiB after ${cases} cases`);
      if (options.progress) process.stderr.write(`fuzz: ${cases}/${runs} cases, heap ${(heap / 2 ** 20).toFixed(1)} MiB after GC\n`);
    }
  });

  try {
    await fc.assert(property, { numRuns: runs, seed, endOnFailure: false, verbose: 0 });
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await gw.close();
    await stub.close();
  }
  return {
    runs,
    seed,
    durationMs: Math.round(performance.now() - started),
    heapBaselineMiB: Math.round(((baseline ?? 0) / 2 ** 20) * 10) / 10,
    heapMaxGrowthMiB: Math.round((maxGrowth / 2 ** 20) * 10) / 10,
    statuses,
    upstreamCalls,
  };
}
