import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { StoreTarget, StoreTls } from '../../config/store.js';
import type { ReadinessCheck } from '../../deps.js';
import type { Logger } from '../../log.js';

/** One Redis or a Redis Cluster: both take the same commands, and route scripts by their first key. */
export type RedisClient = Redis | Cluster;

/** A Lua script run as a command: the keys, then the arguments (KEYS and ARGV); without a fixed key count, the count first. */
export type RedisScript = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Registers a Lua script on the client as a command (ioredis `defineCommand`) and returns it. Every call
 * is an EVALSHA; the body crosses a connection once, on the script's first use there, and again only when
 * the server has lost it (NOSCRIPT after a `SCRIPT FLUSH`, a restart or a failover), which ioredis handles.
 * `name` must be unique per script on the client. Without `numberOfKeys` each call passes the key count first.
 */
export function defineScript(redis: RedisClient, name: string, lua: string, numberOfKeys?: number): RedisScript {
  redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  const commands = redis as unknown as Record<string, RedisScript>;
  return (...keysAndArgs) => commands[name]!(...keysAndArgs);
}

export interface RedisConnection {
  redis: RedisClient;
  /** Resolves once connected; while the first connection attempt is still under way it waits for it, afterwards it fails at once. */
  ready(): Promise<void>;
  readiness: ReadinessCheck;
  close(): Promise<void>;
}

/** Where to connect: a `redis://` URL, or a store target (config/store.ts) of kind redis, cluster or sentinel. */
export type RedisTarget = string | Exclude<StoreTarget, { kind: 'memory' }>;

/**
 * One ioredis client for the gateway's shared state: a single Redis, a Redis Cluster (ioredis `Cluster`,
 * from seed nodes) or the primary Sentinel names (ioredis Sentinel support, following failovers). It must
 * never make a request wait on a Redis that is down: no offline queue (commands fail at once while
 * disconnected), one retry per command, and connect/command deadlines tied to `storeOptions.timeout`. It
 * reconnects in the background with capped back-off, and says so in the log at most every 10 s, without
 * the URL or credentials.
 */
export function connectRedis(target: RedisTarget, options: { timeoutMs: number; log: Logger }): RedisConnection {
  const { timeoutMs, log } = options;
  const redis = createClient(typeof target === 'string' ? { kind: 'redis', url: target } : target, timeoutMs);
  let firstAttemptDone = false;
  let lastErrorLog = -Infinity;
  redis.on('ready', () => {
    firstAttemptDone = true;
  });
  redis.on('error', (error: Error) => {
    firstAttemptDone = true;
    const now = Date.now();
    if (now - lastErrorLog >= 10_000) {
      lastErrorLog = now;
      // The URL may carry a password: log the error text only.
      log({ level: 'warn', msg: 'redis connection error', detail: error.message.slice(0, 200) });
    }
  });
  if (redis instanceof Cluster) {
    // Each node's client would print "[ioredis] Unhandled error event" for its own connection errors (a master
    // that died); the cluster's 'error' above and the failed commands already say what matters.
    redis.on('+node', (node: Redis) => node.on('error', () => {}));
  }

  // One shared wait for the first connection, however many requests arrive before it completes.
  const firstConnection = new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('error', (error: Error) => reject(error));
  });
  firstConnection.catch(() => {});

  const withDeadline = <T>(work: Promise<T>): Promise<T> =>
    Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref())]);

  return {
    redis,
    ready() {
      if (redis.status === 'ready') return Promise.resolve();
      if (firstAttemptDone) return Promise.reject(new Error(`redis is ${redis.status}`));
      return firstConnection;
    },
    readiness: {
      name: 'redis',
      async check() {
        try {
          if (redis instanceof Cluster) return await withDeadline(clusterReadiness(redis));
          const answer = await withDeadline(redis.ping());
          return answer === 'PONG' ? { ok: true } : { ok: false, detail: 'unexpected PING answer' };
        } catch (error) {
          return { ok: false, detail: error instanceof Error ? error.message.slice(0, 200) : 'failed' };
        }
      },
    },
    async close() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

/**
 * A cluster is usable when every master answers and the cluster covers all its slots: one master down
 * leaves its callers without counters until a replica is promoted, so /readyz says so (each master is
 * asked: `PING`, and `CLUSTER INFO` for `cluster_state`).
 */
async function clusterReadiness(cluster: Cluster): Promise<{ ok: boolean; detail?: string }> {
  if (cluster.status !== 'ready') return { ok: false, detail: `redis cluster is ${cluster.status}` };
  const masters = cluster.nodes('master');
  if (masters.length === 0) return { ok: false, detail: 'redis cluster has no reachable master' };
  const answers = await Promise.allSettled(masters.map(async (node) => ({ node, info: String(await node.call('CLUSTER', 'INFO')) })));
  for (const [i, answer] of answers.entries()) {
    const where = `${masters[i]!.options.host}:${masters[i]!.options.port}`;
    if (answer.status === 'rejected')
      return { ok: false, detail: `redis cluster master ${where}: ${String((answer.reason as Error)?.message ?? answer.reason).slice(0, 120)}` };
    const state = /cluster_state:(\w+)/.exec(answer.value.info)?.[1];
    if (state !== 'ok') return { ok: false, detail: `redis cluster master ${where} says cluster_state:${state ?? 'unknown'}` };
  }
  return { ok: true };
}

/** Node TLS options from the store's `tls` settings; undefined for plain TCP. */
function tlsOptions(tls: StoreTls | undefined): ConnectionOptions | undefined {
  if (!tls) return undefined;
  return {
    ...(tls.servername !== undefined && { servername: tls.servername }),
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.rejectUnauthorized !== undefined && { rejectUnauthorized: tls.rejectUnauthorized }),
  };
}

function createClient(target: Exclude<StoreTarget, { kind: 'memory' }>, timeoutMs: number): RedisClient {
  const common: RedisOptions = {
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(1_000, timeoutMs * 4),
    commandTimeout: timeoutMs,
    lazyConnect: false,
  };
  const retryStrategy = (times: number) => Math.min(times * 100, 2_000);
  if (target.kind === 'redis') {
    if (target.url !== undefined) return new Redis(target.url, { ...common, enableOfflineQueue: false, retryStrategy });
    const tls = tlsOptions(target.tls);
    return new Redis({
      ...common,
      enableOfflineQueue: false,
      retryStrategy,
      host: target.node.host,
      port: target.node.port,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.db !== undefined && { db: target.db }),
      ...(tls && { tls }),
    });
  }
  if (target.kind === 'sentinel') {
    const tls = tlsOptions(target.tls);
    return new Redis({
      ...common,
      enableOfflineQueue: false,
      retryStrategy,
      sentinels: target.sentinels,
      name: target.name,
      role: 'master',
      sentinelCommandTimeout: timeoutMs * 4,
      sentinelRetryStrategy: retryStrategy,
      // No failoverDetector: its forced reconnect on +switch-master raced the reconnect already under way after
      // the primary died, and could leave the client connecting for good. Redis itself closes client
      // connections when a primary is demoted, so each failover is seen as a lost connection and followed.
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.sentinelUsername !== undefined && { sentinelUsername: target.sentinelUsername }),
      ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
      ...(target.db !== undefined && { db: target.db }),
      ...(tls && { tls, enableTLSForSentinelMode: true, sentinelTLS: tls }),
    });
  }
  const tls = tlsOptions(target.tls);
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    clusterRetryStrategy: retryStrategy,
    // During a failover the slot's master is gone until a replica is promoted: retry briefly within the
    // command's own deadline, and re-read the slot map often enough to find the new master soon after.
    retryDelayOnFailover: 50,
    retryDelayOnClusterDown: 50,
    retryDelayOnTryAgain: 50,
    slotsRefreshTimeout: Math.max(1_000, timeoutMs * 4),
    slotsRefreshInterval: 2_000,
    redisOptions: {
      ...common,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(tls && { tls }),
    },
    // With TLS, the nodes' certificates name the hosts the seeds were given by, not the IPs CLUSTER SLOTS returns.
    ...(tls && { dnsLookup: (address: string, callback: (error: Error | null, address: string) => void) => callback(null, address) }),
  };
  return new Cluster(target.nodes, clusterOptions);
}
