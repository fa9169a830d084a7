import type { Context } from 'hono';
import type { CacheStore } from './cache/types.js';
import type { Logger } from './log.js';
import type { CloudFlowClient } from './cloudflow/client.js';
import type { Config } from './config/load.js';
import type { AppEnv } from './env.js';
import type { RecordStore } from './records/types.js';
import type { Clock } from './lib/clock.js';
import type { Counters } from './lib/counters.js';
import type { Random } from './lib/random.js';
import type { RateLimitStore } from './ratelimit/types.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/**
 * Everything platform-specific, built by a runtime entry (platform/node/runtime.ts, platform/workers/deps.ts)
 * and handed to createApp. Every field is required: the runtime entries are the only places that choose
 * implementations, and createApp chooses none. The core never reaches for globals it could be given.
 */
export interface Deps {
  config: Config;
  upstream: CloudFlowClient;
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
  /** What `/readyz` asks besides the upstream settings (a Redis connection); empty when nothing else can fail. */
  readiness: ReadinessCheck[];
  /** Rate-limit counters shared as widely as the deployment needs: memory, Redis or Durable Objects. */
  rateLimitStore: RateLimitStore;
  /** Named counters for a metrics endpoint (`ratelimit.refused`, `ratelimit.store_errors`, …). */
  counters: Counters;
  /** Outbound fetch for auxiliary calls such as a JWKS. */
  fetch: typeof fetch;
  /** The response cache store; undefined when no flow configures `cache`. */
  cache: CacheStore | undefined;
  /** Hex SHA-256 for cache keys: synchronous node:crypto on Node, Web Crypto on Workers. */
  sha256Hex: (text: string) => string | Promise<string>;
  /** Delivery, Idempotency-Key and `ack` execution records: memory, Redis or Durable Objects. */
  records: RecordStore;
}
