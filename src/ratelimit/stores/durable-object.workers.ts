import type { Decision, Policy, RateLimitStore } from '../types.js';
import { guardStoreCall } from '../../lib/store-result.js';
import { isDurableObjectNamespace, type DurableObjectNamespaceOf } from '../../platform/workers/durable-objects/namespace.js';

/** A stub of one `FlowgateRateLimiter` object (platform/workers/durable-objects/flowgate-rate-limiter.ts): its RPC method. */
export interface RateLimiterStub {
  check(policies: Policy[], now: number): Promise<Decision>;
}

/** The `RATE_LIMITER` Durable Object namespace binding. */
export type RateLimiterNamespace = DurableObjectNamespaceOf<RateLimiterStub>;

export interface DurableObjectStoreOptions {
  /** A decision that takes longer fails (open or closed, as configured by storeOptions.onError). */
  timeoutMs: number;
}

/**
 * Rate-limit counters in Durable Objects, one object per caller. Policy keys carry the caller id
 * as a hash tag (`flowgate:rl:{mobile-app}:flow:hello`, see ratelimit/policies.ts); that tag names
 * the object, so every policy of a request is decided in one object, atomically.
 */
export function durableObjectRateLimitStore(namespace: RateLimiterNamespace, options: DurableObjectStoreOptions): RateLimitStore {
  const { timeoutMs } = options;
  if (!isDurableObjectNamespace(namespace)) throw new TypeError('a Durable Object namespace binding is required');
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number');
  return {
    kind: 'durable-object',
    check(policies, now) {
      return guardStoreCall(() => {
        const stub = namespace.get(namespace.idFromName(shardOf(policies)) as never);
        return stub.check([...policies], now);
      }, timeoutMs);
    },
  };
}

/** The object that owns a request's counters: the keys' shared hash tag, else the first key. */
export function shardOf(policies: readonly Policy[]): string {
  const first = policies[0]?.key ?? '';
  const tag = /\{([^}]*)\}/.exec(first)?.[0];
  if (tag && policies.every((p) => p.key.includes(tag))) return tag;
  return first;
}
