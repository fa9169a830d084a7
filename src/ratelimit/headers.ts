import type { Decision, Policy } from './types.js';

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers), as Structured Field lists:
 *
 *   RateLimit-Policy: "caller";q=40;w=2, "quota";q=10000;w=86400
 *   RateLimit: "caller";r=12;t=1, "quota";r=9876;t=43210
 *
 * For a GCRA policy `q` is the burst and `w` the seconds the bucket takes to refill from empty.
 * `r` is what is left now and `t` the seconds until the full quota is back; for a policy that
 * refused, `t` is its wait, the same moment as Retry-After. Seconds round up, so a client
 * that follows the fields is never early.
 */
export function rateLimitHeaders(policies: readonly Policy[], decision: Decision): { 'ratelimit-policy': string; ratelimit: string } {
  const described = policies.map((policy) => {
    const q = policy.kind === 'gcra' ? policy.burst : policy.limit;
    const windowMs = policy.kind === 'gcra' ? policy.burst * policy.intervalMs : policy.windowMs;
    return `${sfString(policy.name)};q=${q};w=${seconds(windowMs)}`;
  });
  const current = decision.states.map((state) => {
    const t = state.allowed ? state.resetMs : state.retryAfterMs;
    return `${sfString(state.name)};r=${state.remaining};t=${seconds(t)}`;
  });
  return { 'ratelimit-policy': described.join(', '), ratelimit: current.join(', ') };
}

/** Retry-After in whole seconds, rounded up and at least 1 (a 0 would invite an immediate retry). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000 - 1e-9));

/** An sf-string: printable ASCII with `"` and `\` escaped (policy names come from code, but stay safe). */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}
