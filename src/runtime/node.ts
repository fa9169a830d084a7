import { getConnInfo } from '@hono/node-server/conninfo';
import { createCloudFlowClient } from '../cloudflow/client.js';
import { staticCredentials } from '../cloudflow/credentials.js';
import type { Transport } from '../cloudflow/transport.js';
import type { Config } from '../config/load.js';
import type { Deps, Logger } from '../deps.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { cryptoRandom, type Random } from '../lib/random.js';
import { undiciTransport } from './node-transport.js';
import type { RecordStore } from '../idempotency/store.js';
import { redisRecordStore } from './node-redis-idempotency.js';

export interface NodeDepsOptions {
  log?: Logger;
  transport?: Transport;
  clock?: Clock;
  random?: Random;
  /** Overrides the record store chosen by `store` (tests). */
  records?: RecordStore;
}

export interface NodeRuntime {
  deps: Deps;
  /** Resolves when every deferred background run has settled. */
  drain(): Promise<void>;
  /** Releases pools and store connections. */
  close(): Promise<void>;
}

export const stdoutLogger: Logger = (line) => {
  process.stdout.write(JSON.stringify(line) + '\n');
};

/** Builds the Node dependencies: undici pool upstream, in-process stores, stdout JSON log. */
export function createNodeRuntime(config: Config, options: NodeDepsOptions = {}): NodeRuntime {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const log = options.log ?? stdoutLogger;
  const pooled = options.transport ? undefined : undiciTransport(config.upstream.endpoint, { connections: config.upstream.connections });
  const upstream = createCloudFlowClient({
    endpoint: config.upstream.endpoint,
    credentials: staticCredentials(config.upstream.credentials),
    transport: options.transport ?? pooled!.transport,
    signatureVersion: config.upstream.signatureVersion,
    timeoutMs: config.upstream.timeout,
    clock,
    random,
  });
  const redisRecords = options.records || config.store === 'memory' ? undefined : redisRecordStore({ redis: config.store, keyPrefix: config.storeOptions.keyPrefix });
  const inFlight = new Set<Promise<unknown>>();
  const deps: Deps = {
    config,
    upstream,
    clock,
    random,
    log,
    clientIp: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
    defer(work) {
      const tracked = work.catch((error: unknown) => log({ level: 'error', msg: 'background work failed', detail: error instanceof Error ? error.message : String(error) }));
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
    },
  };
  const records = options.records ?? redisRecords;
  if (records) deps.records = records;
  if (redisRecords) deps.readiness = [...(deps.readiness ?? []), { name: 'records', check: async () => ({ ok: await redisRecords.ping() }) }];
  return {
    deps,
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close() {
      await pooled?.close();
      await redisRecords?.close();
    },
  };
}
