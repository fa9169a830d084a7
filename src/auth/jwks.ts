import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../lib/clock.js';
import { singleFlight, type Timer } from '../lib/single-flight.js';

export interface JwksOptions {
  url: string;
  /** The fetch used to load the key set (injected: loopback servers in tests, the platform's fetch otherwise). */
  fetch: typeof fetch;
  clock: Clock;
  /** How long a fetched key set is used before it is fetched again. */
  ttlMs: number;
  /** A fetch that takes longer than this fails. */
  timeoutMs?: number;
  /** After a fetch (or a failed one), an unknown `kid` waits this long before the next fetch, so forged kids cannot make us hammer the issuer. */
  cooldownMs?: number;
  /** Larger key-set documents are refused. */
  maxBytes?: number;
  /**
   * While a fetch another request started is in flight, a request without keys waits for it this long
   * (from its start) before fetching itself: that request may have been cancelled, and its fetch with it.
   */
  leaseMs?: number;
  /** The waiting request's own timer (injected in tests). */
  timer?: Timer;
  /**
   * Called each time a fetched key set replaces the one in use, with the time (epoch ms) until which it is used
   * without fetching again: what was judged with the old keys must be judged again.
   */
  onKeys?: ((validUntil: number) => void) | undefined;
}

/** The issuer's keys could not be fetched and none are cached: the token cannot be judged either way. */
export class JwksUnavailableError extends Error {
  constructor(detail: string) {
    super(`the JWKS could not be fetched: ${detail}`);
    this.name = 'JwksUnavailableError';
  }
}

/**
 * A JWKS kept in memory with a TTL on the injected clock, refreshed on expiry and when a token names
 * a key we do not have (key rotation). A failed refresh keeps the keys we had. No background timers:
 * freshness is checked when a token arrives.
 *
 * Requests share the fetched keys, never a fetch in flight (lib/single-flight.ts): on Workers a fetch
 * dies with the request that started it. A request that needs keys while another's fetch is in
 * flight waits for its outcome at most `leaseMs` from its start, then fetches itself, so a burst
 * makes one fetch per lease and an unknown `kid` at most one per cooldown.
 */
export function cachedJwks(options: JwksOptions): JWTVerifyGetKey {
  const {
    url,
    fetch: fetchFn,
    clock,
    ttlMs,
    timeoutMs = 5_000,
    cooldownMs = 30_000,
    maxBytes = 256 * 1024,
    leaseMs = Math.min(timeoutMs, 1_000),
    timer,
    onKeys,
  } = options;
  if (typeof fetchFn !== 'function') throw new TypeError('fetch must be a function');
  if (!(ttlMs > 0)) throw new TypeError('ttlMs must be positive');
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  /** When the fetch that produced `keys` started: a slower, older fetch must not replace newer keys. */
  let keysFrom = -Infinity;
  const flight = singleFlight<void>({ clock, leaseMs, ...(timer ? { timer } : {}) });

  async function load(): Promise<void> {
    const startedAt = clock.now();
    attemptedAt = startedAt;
    const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new JwksUnavailableError(`HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > maxBytes) throw new JwksUnavailableError('the document is too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new JwksUnavailableError('the document is not JSON');
    }
    // createLocalJWKSet validates the shape and throws on a document without a "keys" array.
    const fetched = createLocalJWKSet(parsed as JSONWebKeySet);
    if (startedAt < keysFrom) return;
    keys = fetched;
    keysFrom = startedAt;
    fetchedAt = clock.now();
    onKeys?.(fetchedAt + ttlMs);
  }

  async function refresh(): Promise<void> {
    try {
      await flight.run(url, load);
    } catch (error) {
      if (!keys) throw error instanceof JwksUnavailableError ? error : new JwksUnavailableError(error instanceof Error ? error.message : String(error));
      // Keep serving with the keys we had; the next expiry or unknown kid tries again.
    }
  }

  return async function getKey(header, token) {
    const now = clock.now();
    if (!keys || (now - fetchedAt >= ttlMs && now - attemptedAt >= cooldownMs)) await refresh();
    try {
      return await keys!(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && clock.now() - attemptedAt >= cooldownMs) {
        await refresh();
        return keys!(header, token);
      }
      throw error;
    }
  };
}
