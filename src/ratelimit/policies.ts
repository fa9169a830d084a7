import type { Config, FlowConfig } from '../config/load.js';
import type { RateLimitSpec } from '../config/schema.js';
import { defaultBurst } from '../config/units.js';
import type { Caller } from '../env.js';
import type { Policy } from './types.js';

/** Turns the config into the policies that apply to one caller on one flow. */
export type PolicyResolver = (caller: Caller, flow: FlowConfig, now: number) => Policy[];

/**
 * The caller-wide limit of a configured caller is its own `callers.<name>.rateLimit` (none when it has
 * none), whatever the credential: an API key or a token whose claim names it. `auth.jwt.defaultRateLimit`
 * is for token callers that are not configured callers (`jwt:<claim value>`), and `anonymous.rateLimit`
 * for callers known only by their address. The flow's `rateLimit` applies on top, per caller. Each may add a quota.
 *
 * Keys carry the caller id in a Redis hash tag (`{…}`), so every key of one request lives in the
 * same cluster slot and one script can touch them all.
 */
export function policyResolver(config: Pick<Config, 'callers' | 'auth' | 'anonymous'>, keyPrefix: string): PolicyResolver {
  const callerSpec = (caller: Caller): RateLimitSpec | undefined => {
    if (caller.name !== undefined && Object.hasOwn(config.callers, caller.name)) return config.callers[caller.name]!.rateLimit;
    if (caller.kind === 'jwt') return config.auth.jwt?.defaultRateLimit;
    if (caller.kind === 'anonymous') return config.anonymous.rateLimit;
    return undefined;
  };

  return function resolvePolicies(caller, flow, now) {
    const base = `${keyPrefix}rl:{${caller.id}}`;
    const policies: Policy[] = [];
    add(policies, callerSpec(caller), { rate: 'caller', quota: 'quota' }, `${base}:caller`, now);
    add(policies, flow.rateLimit, { rate: 'flow', quota: 'flow-quota' }, `${base}:flow:${flow.name}`, now);
    return policies;
  };
}

/**
 * The check after a webhook signature verified: the flow's `rateLimit` (rate and quota) again, keyed by
 * the proven sender (`webhook:github`) instead of the address it came from, named `sender` and
 * `sender-quota`. Nothing for other callers, and no caller-wide policy: senders have no caller entry,
 * and `anonymous.rateLimit` is a budget for one client address, not for everything GitHub sends.
 */
export function senderPolicyResolver(keyPrefix: string): PolicyResolver {
  return function resolveSenderPolicies(caller, flow, now) {
    if (caller.kind !== 'webhook' || !flow.webhook) return [];
    const policies: Policy[] = [];
    add(policies, flow.rateLimit, { rate: 'sender', quota: 'sender-quota' }, `${keyPrefix}rl:{${caller.id}}:flow:${flow.name}`, now);
    return policies;
  };
}

function add(into: Policy[], spec: RateLimitSpec | undefined, names: { rate: string; quota: string }, key: string, now: number): void {
  if (!spec) return;
  if (spec.rate) {
    into.push({
      kind: 'gcra',
      name: names.rate,
      key,
      intervalMs: spec.rate.periodMs / spec.rate.count,
      burst: spec.burst ?? defaultBurst(spec.rate),
    });
  }
  if (spec.quota) {
    const windowMs = spec.quota.periodMs;
    // Windows are aligned to the epoch, so a daily quota resets at 00:00 UTC on every process.
    const index = Math.floor(now / windowMs);
    into.push({
      kind: 'window',
      name: names.quota,
      key: `${key}:q:${index}`,
      limit: Math.floor(spec.quota.count),
      windowMs,
      windowEnd: (index + 1) * windowMs,
    });
  }
}
