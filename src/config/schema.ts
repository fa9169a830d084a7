import * as z from 'zod';
import { defaultBurst, parseDuration, parseRate, parseSize } from './units.js';
import { BODY_FORMATS, HMAC_ALGORITHMS, SIGNATURE_ENCODINGS, signsTimestamp, WEBHOOK_PROVIDERS } from '../webhooks/types.js';
import { optionProblems } from '../webhooks/options.js';
import { defaultToleranceMs } from '../webhooks/timestamp.js';

/** `webhook.dedupeTtl` bounds: shorter than a minute misses quick retries (Slack's after 3 s, 1 and 5 min); longer than 30 days outlives every sender's retry horizon (Stripe: 3 days) and only fills the store. */
const MIN_DEDUPE_TTL_MS = 60_000;
const MAX_DEDUPE_TTL_MS = 30 * 86_400_000;
import { MIN_IPV6_PREFIX, trustedProxyRanges, type TrustProxy } from '../lib/client-address.js';
import { PROXY_PRESETS } from '../lib/proxy-presets.js';
import { corsSchema } from './cors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { credentialsSchema } from './credentials.js';
import { storeObjectSchema, storeTarget, type StoreProblem } from './store.js';
import { routeSchema } from './routes.js';

/**
 * The configuration contract (README, "Configuration"). Messages name the key path and what was expected,
 * never the value found: a value in the wrong key may be a secret. Units are parsed here, once, so the rest of the code
 * sees milliseconds, bytes and `{count, periodMs}` only.
 */

const duration = (what = 'a duration such as "60s", "5m", "1d" or milliseconds') =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}` });
      return z.NEVER;
    }
    return ms;
  });

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a size such as "64KiB", "1MiB" or bytes' });
    return z.NEVER;
  }
  return bytes;
});

const rate = z.string().transform((value, ctx) => {
  const parsed = parseRate(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: 'expected a rate such as "20/s", "100/1m" or "10000/d"' });
    return z.NEVER;
  }
  return parsed;
});

/** GCRA policy: a steady `rate`, a `burst` that may be spent at once, and an optional fixed-window `quota`. */
export const rateLimitSchema = z
  .strictObject({
    rate: rate.optional(),
    burst: z.number().int().positive().optional(),
    quota: rate.optional(),
  })
  .refine((v) => v.rate || v.quota, { message: 'a rate limit needs "rate" or "quota"' })
  .refine((v) => !v.quota || Number.isInteger(v.quota.count), { message: 'a quota counts whole requests, such as "10000/d"', path: ['quota'] })
  .transform((v) => ({
    rate: v.rate,
    burst: v.rate ? (v.burst ?? defaultBurst(v.rate)) : undefined,
    quota: v.quota,
  }));

/** A GCRA rate and burst only: a quota of failures would lock an address out until the window ends. */
export const failureLimitSchema = z
  .strictObject({
    rate,
    burst: z.number().int().positive().optional(),
  })
  .transform((v) => ({ rate: v.rate, burst: v.burst ?? defaultBurst(v.rate) }));

/**
 * `server.trustProxy`, read the way Express reads `trust proxy`: `false`, a hop count (`true` is 1),
 * a list of proxy addresses, CIDRs and presets, or `cloudflare`. Normalised so `0` and `[]` are
 * `false`; list entries are checked here so a typo stops the start with its index.
 */
const trustProxySchema = z.unknown().transform((value, ctx): TrustProxy => {
  if (value === false || value === 0) return false;
  if (value === true) return 1;
  if (value === 'cloudflare') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (Array.isArray(value)) {
    value.forEach((entry: unknown, i) => {
      if (typeof entry !== 'string' || !trustedProxyRanges(entry)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `expected an IP address, a CIDR such as "10.0.0.0/8", or one of ${Object.keys(PROXY_PRESETS).join(', ')}`,
        });
      }
    });
    return value.length === 0 ? false : (value as string[]);
  }
  ctx.addIssue({ code: 'custom', message: 'expected false, a hop count (true is 1), a list of proxy addresses or CIDRs, or "cloudflare"' });
  return z.NEVER;
});

const WORKERS_RANGE = 'expected a number of processes from 1 to 256, or "auto"';

/** An exposed flow name (`POST /flows/{name}/run`): URL-safe without escaping; not necessarily the CloudFlow FlowName. */
export const EXPOSED_FLOW_NAME = /^[A-Za-z0-9_-]{1,128}$/;

const webhookSchema = z
  .strictObject({
    provider: z.enum(WEBHOOK_PROVIDERS),
    secrets: z.array(z.string().min(1)).min(1).optional(),
    /** Default per provider (`defaultToleranceMs`): 5 minutes, Twitch 10 minutes, Linear 60 seconds. */
    tolerance: duration().optional(),
    header: z.string().optional(),
    algorithm: z.enum(HMAC_ALGORITHMS).optional(),
    encoding: z.enum(SIGNATURE_ENCODINGS).optional(),
    prefix: z.string().optional(),
    timestampHeader: z.string().optional(),
    body: z.enum(BODY_FORMATS).optional(),
    publicUrl: z.string().optional(),
    publicKey: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /**
     * How long a delivery id is remembered; longer than the sender's retry horizon (Stripe retries for 3 days).
     * 1 minute to 30 days, and at least the tolerance: a replay inside the window must still find its id.
     */
    dedupeTtl: duration().default(4 * 86_400_000),
  })
  .superRefine((v, ctx) => {
    for (const { key, message } of optionProblems(v)) ctx.addIssue({ code: 'custom', path: [key], message });
    if (v.dedupeTtl < MIN_DEDUPE_TTL_MS || v.dedupeTtl > MAX_DEDUPE_TTL_MS) {
      ctx.addIssue({ code: 'custom', path: ['dedupeTtl'], message: 'must be from 1m to 30d' });
    } else if (signsTimestamp(v) && v.dedupeTtl < (v.tolerance ?? defaultToleranceMs(v.provider))) {
      ctx.addIssue({
        code: 'custom',
        path: ['dedupeTtl'],
        message: 'must be at least the tolerance: a delivery replayed after its id is forgotten but inside the window would run again',
      });
    }
  })
  // Only a sender that signs a timestamp has a window; for the others tolerance stays unset.
  .transform((v) => ({ ...v, tolerance: v.tolerance ?? (signsTimestamp(v) ? defaultToleranceMs(v.provider) : undefined) }));

export const flowSchema = z.strictObject({
  flowName: z.string().regex(CLOUDFLOW_NAME, `must follow the CloudFlow naming rule ${CLOUDFLOW_NAME.source}`).optional(),
  description: z.string().optional(),
  qualifier: z.string().min(1).optional(),
  /** The `?qualifier=` values callers may choose; without this list the query parameter is refused. */
  qualifiers: z.array(z.string().min(1)).default([]),
  maxInputSize: size.default(64 * 1024),
  access: z.union([z.literal('public'), z.literal('authenticated'), z.array(z.string().min(1))]).optional(),
  rateLimit: rateLimitSchema.optional(),
  cache: z
    .strictObject({
      ttl: duration().refine((ms) => ms > 0, { message: 'the cache ttl must be longer than 0' }),
      /** caller: each caller has its own entries; shared: one entry serves every caller of this flow. */
      scope: z.enum(['caller', 'shared']).default('caller'),
    })
    .optional(),
  errors: z.record(z.string(), z.number().int().min(400).max(599)).default({}),
  timeout: duration().optional(),
  webhook: webhookSchema.optional(),
  mode: z.enum(['sync', 'ack']).default('sync'),
  idempotency: z
    .strictObject({
      ttl: duration().default(86_400_000),
      required: z.boolean().default(false),
    })
    .optional(),
  /** JSON Schema 2020-12 of the Input: enforced (400 with JSON pointers) and published in GET /flows and /openapi.json. */
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  /** JSON Schema 2020-12 of the Output: published in /openapi.json, not enforced. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  /**
   * `body` (the default): the Output is the answer's body. `proxy`: an Output `{statusCode, headers, body}` is the
   * whole HTTP answer (API Gateway's Lambda proxy integration); `Set-Cookie` passes only with `allowSetCookie`.
   */
  response: z
    .union([
      z.enum(['body', 'proxy']),
      z.strictObject({
        mode: z.enum(['body', 'proxy']).default('proxy'),
        allowSetCookie: z.boolean().default(false),
      }),
    ])
    .default('body')
    .transform((v) => (typeof v === 'string' ? { mode: v, allowSetCookie: false } : v)),
});

const callerSchema = z.strictObject({
  apiKeys: z.array(z.string().min(1)).default([]),
  rateLimit: rateLimitSchema.optional(),
  admin: z.boolean().default(false),
});

const jwtSchema = z
  .strictObject({
    secret: z.string().min(1).optional(),
    jwksUrl: z.url().optional(),
    algorithms: z.array(z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'])).optional(),
    callerClaim: z.string().min(1).default('sub'),
    issuer: z.string().optional(),
    audience: z.union([z.string(), z.array(z.string())]).optional(),
    clockSkew: duration().default(30_000),
    jwksCacheTtl: duration().default(600_000),
    /** Verified tokens remembered (by digest) so a repeated bearer skips the signature check; 0 turns it off. */
    tokenCacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
    /** Tokens without "exp" never expire; refuse them unless this is turned off. */
    requireExpiration: z.boolean().default(true),
    /** The caller-wide limit of token callers that are not configured callers; a configured caller keeps its own. */
    defaultRateLimit: rateLimitSchema.optional(),
  })
  .refine((v) => Boolean(v.secret) !== Boolean(v.jwksUrl), { message: 'set exactly one of "secret" (HS*) or "jwksUrl" (RS*/ES*)' });

export const configSchema = z.strictObject({
  upstream: z
    .strictObject({
      region: z
        .string()
        .regex(/^[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')
        .optional(),
      endpoint: z.string().min(1).optional(),
      signatureVersion: z.enum(['v3', 'rpc']).default('v3'),
      timeout: duration().default(300_000),
      /** The official credential types (config/credentials.ts); absent: the official default chain. */
      credentials: credentialsSchema.optional(),
      /** Keep-alive connections per upstream origin (Node). */
      connections: z.number().int().positive().default(128),
    })
    .refine((v) => v.region || v.endpoint, { message: 'set "region" or "endpoint"' }),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8787),
      host: z.string().default('0.0.0.0'),
      maxBodySize: size.default(1024 * 1024),
      maxJsonDepth: z.number().int().positive().max(1000).default(64),
      trustProxy: trustProxySchema.default(false),
      /** The header the trusted hops are read from; the other one is ignored. Default x-forwarded-for. */
      forwardedHeader: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['x-forwarded-for', 'forwarded'])).optional(),
      cors: corsSchema.default(false),
      accessLog: z.boolean().default(true),
      /**
       * Local debugging: a 502 caused by the upstream carries its Code (`UpstreamCode`) and a hint for the known
       * setup mistakes (an expired token, a wrong secret, a skewed clock). Off by default: callers learn nothing
       * about the gateway's own setup. Never a secret, a signature or the upstream's message.
       */
      exposeUpstreamErrors: z.boolean().default(false),
      /**
       * `GET /metrics` (Prometheus text format). `access: admin` (default) asks for an admin caller's credential,
       * like the cache purge; `public` serves anyone who can reach it. `port` serves it on a listener of its own
       * instead (Node only; that listener has no credential check, so bind it where only the scraper reaches).
       */
      metrics: z
        .strictObject({
          access: z.enum(['admin', 'public']).default('admin'),
          port: z.number().int().min(0).max(65535).optional(),
          host: z.string().optional(),
        })
        .prefault({}),
      /** Time allowed to receive request headers; short, against slow-loris clients. */
      headersTimeout: duration().default(15_000),
      /** Time allowed to receive the whole request (not the response: executions may run 5 minutes). */
      requestTimeout: duration().default(60_000),
      keepAliveTimeout: duration().default(5_000),
      /** How long SIGTERM waits for requests and background runs in flight. */
      shutdownTimeout: duration().default(30_000),
      /** Processes sharing the port (node:cluster); `auto` is one per core. 1 serves from the process itself. */
      workers: z.union([z.number().int().min(1, WORKERS_RANGE).max(256, WORKERS_RANGE), z.literal('auto')], { error: WORKERS_RANGE }).default(1),
    })
    .prefault({}),
  /** memory, a Redis URL (redis://, rediss://, redis+cluster://, redis+sentinel://) or the object form; read by config/store.ts. */
  store: z
    .union([z.string().min(1), storeObjectSchema], { error: 'expected "memory", a Redis URL or a store object' })
    .superRefine((value, ctx) => {
      const problems: StoreProblem[] = [];
      storeTarget(value, problems);
      for (const problem of problems) {
        const path = problem.path
          .split('.')
          .slice(1)
          .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
        ctx.addIssue({ code: 'custom', path, message: problem.message });
      }
    })
    .default('memory'),
  storeOptions: z
    .strictObject({
      /** A store call that takes longer than this counts as failed. */
      timeout: duration().default(250),
      /** open: serve without the limiter when the store fails; closed: answer 503. */
      onError: z.enum(['open', 'closed']).default('open'),
      keyPrefix: z.string().default('flowgate:'),
      /** Memory store: rate-limit keys kept at most (least recently used go first), which bounds memory. */
      maxKeys: z.number().int().positive().default(100_000),
      /** Byte budget of the in-memory delivery, Idempotency-Key and execution records (memory store only). */
      recordsMaxSize: size.default(32 * 1024 * 1024),
      /** How long the outcome of an `ack` execution stays readable at GET /executions/{name}. */
      executionTtl: duration().default(86_400_000),
    })
    .prefault({}),
  cache: z
    .strictObject({
      /** Byte budget of the in-memory response cache. */
      maxSize: size.default(64 * 1024 * 1024),
      /** Entries larger than this are not cached. */
      maxEntrySize: size.default(1024 * 1024),
      /** How long a process waits for another process's run of the same request before running it itself. */
      lockWait: duration().default(10_000),
    })
    .prefault({}),
  callers: z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'caller names use letters, digits and . _ : -'), callerSchema).default({}),
  auth: z
    .strictObject({
      jwt: jwtSchema.optional(),
      /**
       * Failed authentications (unknown API key, bad token) allowed per client address; past it the address
       * gets 429 before any credential is judged. `false` turns it off.
       */
      failureLimit: z.union([z.literal(false), failureLimitSchema]).prefault({ rate: '10/1m', burst: 20 }),
    })
    .prefault({}),
  anonymous: z
    .strictObject({
      rateLimit: rateLimitSchema.optional(),
      /** IPv6 clients are keyed by their network of this many bits: one host usually holds a whole /64. */
      ipv6Prefix: z
        .number()
        .int()
        .min(MIN_IPV6_PREFIX, `expected a prefix length from ${MIN_IPV6_PREFIX} to 128`)
        .max(128, `expected a prefix length from ${MIN_IPV6_PREFIX} to 128`)
        .default(64),
    })
    .prefault({}),
  flows: z.record(z.string().regex(EXPOSED_FLOW_NAME, 'exposed flow names use letters, digits, _ and -'), flowSchema),
  /** REST routes of the operator's own, each running an exposed flow (config/routes.ts). */
  routes: z.array(routeSchema).default([]),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type RateLimitSpec = z.output<typeof rateLimitSchema>;
export type FailureLimitSpec = z.output<typeof failureLimitSchema>;
export type ParsedFlow = z.output<typeof flowSchema>;
