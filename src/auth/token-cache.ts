import { LRUCache } from 'lru-cache';
import type { Clock } from '../lib/clock.js';

/** What a verified token said that matters on its next use: whom it names, and the times that are checked again. */
export interface VerifiedToken {
  subject: string;
  /** `exp` and `nbf` as the token carries them (NumericDate, seconds), when it does. */
  exp: number | undefined;
  nbf: number | undefined;
}

export interface TokenCacheOptions {
  /** How many tokens are remembered at most, least recently used first out; at least 1. */
  maxEntries: number;
  /** The leeway the verifier allows for `exp` and `nbf`, in ms. */
  clockSkewMs: number;
  clock: Clock;
  /**
   * Until when (epoch ms) the keys in use may be relied on without being fetched again: `Infinity` for a key from
   * the config, `-Infinity` for a key set not fetched yet (then {@link TokenCache.keysChanged} says).
   */
  keysValidUntil: number;
}

export interface TokenCache {
  /** The subject of a token verified before, if its `exp` and `nbf` still hold now; else undefined (verify it). */
  get(id: string): string | undefined;
  /**
   * Remembers a token that just verified, unless the keys changed since its verification began (`generation` is
   * the value {@link generation} had then): it was judged with keys no longer in use.
   */
  set(id: string, token: VerifiedToken, generation: number): void;
  /** Forgets every token: the keys they were verified with have been replaced by keys valid until `validUntil` (epoch ms). */
  keysChanged(validUntil: number): void;
  /** Bumped by each {@link keysChanged}. */
  readonly generation: number;
}

/**
 * Tokens already verified, by a digest of the token (`id`), so a caller's next requests with the same bearer skip
 * the signature check: on Node, jose verifies with Web Crypto, a thread-pool job that cost more than the rest of
 * the request (docs/benchmarks.md). A remembered token is accepted only while the time checks the verifier made
 * still pass, judged as jose judges them (whole seconds, the same leeway): `exp` not yet past, `nbf` reached. Every
 * other check (signature, algorithm, `iss`, `aud`, the caller claim) depends on the token alone, and a token is
 * remembered only once it passed them all. Nothing is answered from memory once the keys are due to be fetched
 * again (a JWKS past its TTL): the next use verifies, which fetches them; and a new key set forgets every token.
 * So a key the issuer withdraws stops working when it would without this cache. The practice follows Envoy's
 * `jwt_authn` JWT cache.
 */
export function tokenCache(options: TokenCacheOptions): TokenCache {
  const { maxEntries, clockSkewMs, clock } = options;
  let keysValidUntil = options.keysValidUntil;
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1)) throw new TypeError('maxEntries must be a positive integer');
  if (!(clockSkewMs >= 0)) throw new TypeError('clockSkewMs must be a number >= 0');
  const tolerance = clockSkewMs / 1000;
  const tokens = new LRUCache<string, VerifiedToken>({ max: maxEntries });
  let generation = 0;
  return {
    get(id) {
      const nowMs = clock.now();
      if (nowMs >= keysValidUntil) return undefined;
      const token = tokens.get(id);
      if (token === undefined) return undefined;
      // jose: now = floor(ms / 1000); refused when exp <= now - tolerance or nbf > now + tolerance.
      const now = Math.floor(nowMs / 1000);
      if ((token.exp !== undefined && token.exp <= now - tolerance) || (token.nbf !== undefined && token.nbf > now + tolerance)) {
        tokens.delete(id);
        return undefined;
      }
      return token.subject;
    },
    set(id, token, at) {
      if (at === generation) tokens.set(id, token);
    },
    keysChanged(validUntil) {
      generation++;
      keysValidUntil = validUntil;
      tokens.clear();
    },
    get generation() {
      return generation;
    },
  };
}
