import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../lib/clock.js';

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
 * a key we do not have (key rotation). One fetch at a time; a failed refresh keeps the keys we had.
 * No timers: freshness is checked when a token arrives.
 */
export function cachedJwks(options: JwksOptions): JWTVerifyGetKey {
  const { url, fetch: fetchFn, clock, ttlMs, timeoutMs = 5_000, cooldownMs = 30_000, maxBytes = 256 * 1024 } = options;
  if (typeof fetchFn !== 'function') throw new TypeError('fetch must be a function');
  if (!(ttlMs > 0)) throw new TypeError('ttlMs must be positive');
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  async function load(): Promise<void> {
    attemptedAt = clock.now();
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
    keys = createLocalJWKSet(parsed as JSONWebKeySet);
    fetchedAt = clock.now();
  }

  function refresh(): Promise<void> {
    inFlight ??= load()
      .catch((error: unknown) => {
        if (!keys) throw error instanceof JwksUnavailableError ? error : new JwksUnavailableError(error instanceof Error ? error.message : String(error));
        // Keep serving with the keys we had; the next expiry or unknown kid tries again.
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
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
