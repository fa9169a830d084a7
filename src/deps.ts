import type { Context } from 'hono';
import type { CacheStore } from './cache/types.js';
import type { Logger } from './log.js';
import { createCloudFlowClient, type CloudFlowClient } from './cloudflow/client.js';
import type { CredentialSource } from './cloudflow/credentials.js';
import { refreshingCredentials, type ManagedCredentials } from './cloudflow/refreshing-credentials.js';
import type { Sha256Hex, SigningCrypto } from './cloudflow/signing/digests.js';
import type { Transport } from './cloudflow/transport.js';
import type { Config } from './config/load.js';
import type { AppEnv } from './env.js';
import type { RecordStore } from './records/types.js';
import type { Clock } from './lib/clock.js';
import type { Counters } from './lib/counters.js';
import type { Metrics } from './metrics/types.js';
import type { Random } from './lib/random.js';
import type { RateLimitStore } from './ratelimit/types.js';
import type { WebhookHmac } from './webhooks/types.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/**
 * Everything platform-specific, built by a runtime entry (platform/node/runtime.ts, platform/workers/deps.ts)
 * through `assembleDeps` and handed to createApp. Every field is required: the runtime entries are the only
 * places that choose implementations, and createApp chooses none. The core never reaches for globals it
 * could be given.
 */
export interface Deps {
  config: Config;
  upstream: CloudFlowClient;
  /** The upstream keys, refreshed before they expire; their state shows in `/readyz` (the `credentials` check). */
  credentials: ManagedCredentials;
  clock: Clock;
  random: Random;
  /** One JSON object per call; must never be given secrets. */
  log: Logger;
  /** The peer address of the connection (not a forwarded header). */
  clientIp(c: Context<AppEnv>): string | undefined;
  /**
   * True when `clientIp` is already the client's address as the platform established it (Workers:
   * `CF-Connecting-IP`, which Cloudflare's edge sets and overwrites); `server.trustProxy` is then not applied.
   */
  platformClientAddress: boolean;
  /** Keeps background work alive past the response: waitUntil on Workers, a drained set on Node. */
  defer(work: Promise<unknown>): void;
  /** What `/readyz` asks: the upstream credentials, and the stores that can fail (a Redis connection). */
  readiness: ReadinessCheck[];
  /** Rate-limit counters shared as widely as the deployment needs: memory, Redis or Durable Objects. */
  rateLimitStore: RateLimitStore;
  /** Named counters for a metrics endpoint (`ratelimit.refused`, `ratelimit.store_errors`, …). */
  counters: Counters;
  /** Request metrics and the `GET /metrics` exposition: prom-client on Node, a per-isolate registry on Workers. */
  metrics: Metrics;
  /** Outbound fetch for auxiliary calls such as a JWKS. */
  fetch: typeof fetch;
  /** The response cache store; undefined when no flow configures `cache`. */
  cache: CacheStore | undefined;
  /**
   * Hex SHA-256 for every digest a request needs (cache keys, API keys, Idempotency-Key scopes and fingerprints):
   * synchronous node:crypto on Node, Web Crypto on Workers.
   */
  sha256Hex: Sha256Hex;
  /** Delivery, Idempotency-Key and `ack` execution records: memory, Redis or Durable Objects. */
  records: RecordStore;
  /** The HMAC webhook verifiers use: synchronous node:crypto on Node; undefined on Workers, which use Web Crypto. */
  webhookHmac: WebhookHmac | undefined;
}

/**
 * What a runtime entry chooses. Everything else in `Deps` follows from the config and these choices, the
 * same way on every runtime (see `assembleDeps`).
 */
export interface RuntimeChoices extends Pick<
  Deps,
  | 'clock'
  | 'random'
  | 'log'
  | 'clientIp'
  | 'platformClientAddress'
  | 'readiness'
  | 'rateLimitStore'
  | 'counters'
  | 'metrics'
  | 'cache'
  | 'sha256Hex'
  | 'records'
  | 'webhookHmac'
> {
  /** How signed calls reach CloudFlow: an undici pool on Node, the global fetch on Workers, a stub in tests. */
  transport: Transport;
  /**
   * Where the upstream keys come from, for `upstream.credentials`: the official `@alicloud/credentials`
   * providers on Node, `fetch` on Workers (platform/node/credentials.ts, platform/workers/credentials.ts).
   */
  credentialSource: CredentialSource;
  /** Digests for signing: synchronous node:crypto on Node; Web Crypto when absent. */
  signingCrypto?: SigningCrypto | undefined;
  /** Keeps a promise alive past the response: `waitUntil` on Workers, a set drained on SIGTERM on Node. */
  keepAlive(work: Promise<void>): void;
}

/** What a caller of a runtime entry (a test, an embedding application) may put in place of the runtime's own choice. */
export type RuntimeOverrides = Partial<Pick<RuntimeChoices, 'log' | 'transport' | 'clock' | 'random' | 'credentialSource'>>;

/**
 * The `Deps` both runtime entries build, from the config and the runtime's choices: the CloudFlow client
 * for `upstream.*`, background work whose failure is logged rather than lost, and the global `fetch` for
 * auxiliary calls (a JWKS). The entries (platform/node/runtime.ts, platform/workers/deps.ts) call it; nothing
 * else does.
 */
export function assembleDeps(config: Config, choices: RuntimeChoices): Deps {
  const { clock, random, log, keepAlive } = choices;
  const credentials = refreshingCredentials(choices.credentialSource, {
    clock,
    log,
    counters: choices.counters,
    keepAlive(work) {
      keepAlive(work.then(() => undefined));
    },
  });
  const upstream = createCloudFlowClient({
    endpoint: config.upstream.endpoint,
    credentials: credentials.get,
    credentialsExpired: credentials.rejected,
    transport: choices.transport,
    signatureVersion: config.upstream.signatureVersion,
    timeoutMs: config.upstream.timeout,
    clock,
    random,
    ...(choices.signingCrypto ? { crypto: choices.signingCrypto } : {}),
  });
  return {
    config,
    upstream,
    credentials,
    clock,
    random,
    log,
    clientIp: choices.clientIp,
    platformClientAddress: choices.platformClientAddress,
    defer(work) {
      // The runtime keeps the work alive; its failure would otherwise vanish (waitUntil drops it silently).
      keepAlive(
        work.then(
          () => undefined,
          (error: unknown) => log({ level: 'error', msg: 'background work failed', detail: error instanceof Error ? error.message : String(error) }),
        ),
      );
    },
    readiness: [{ name: 'credentials', check: credentials.check }, ...choices.readiness],
    rateLimitStore: choices.rateLimitStore,
    counters: choices.counters,
    metrics: choices.metrics,
    fetch: (input, init) => fetch(input, init),
    cache: choices.cache,
    sha256Hex: choices.sha256Hex,
    records: choices.records,
    webhookHmac: choices.webhookHmac,
  };
}

/** Whether any flow configures `cache`; without one no runtime builds a response cache store. */
export function configuresCache(config: Config): boolean {
  return Object.values(config.flows).some((flow) => flow.cache);
}
