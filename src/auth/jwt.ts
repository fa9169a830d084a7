import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { sha256Hex, type Sha256Hex } from '../cloudflow/signing/digests.js';
import { utf8 } from '../lib/bytes.js';
import type { Clock } from '../lib/clock.js';
import { cachedJwks, JwksUnavailableError } from './jwks.js';
import { tokenCache } from './token-cache.js';

export interface JwtVerifierOptions {
  /** HS*: the shared secret (at least 32 bytes). */
  secret?: string | undefined;
  /** RS*, ES*, PS*: where the issuer publishes its keys. */
  jwksUrl?: string | undefined;
  algorithms?: string[] | undefined;
  /** The claim whose value names the caller: `jwt:<value>`. */
  callerClaim: string;
  issuer?: string | undefined;
  audience?: string | string[] | undefined;
  /** Allowed clock difference for `exp` and `nbf`. */
  clockSkewMs: number;
  jwksCacheTtlMs: number;
  requireExpiration: boolean;
  /** How many verified tokens are remembered (see token-cache.ts); 0 or absent: every token is verified every time. */
  tokenCacheSize?: number | undefined;
  /** The digest remembered tokens are keyed by; Web Crypto by default, synchronous node:crypto on Node. */
  digest?: Sha256Hex | undefined;
  clock: Clock;
  fetch: typeof fetch;
  /** jose's `jwtVerify`, the default; a test passes a wrapper to count the signature checks. */
  jwtVerify?: typeof jwtVerify | undefined;
}

export type JwtOutcome = { ok: true; subject: string } | { ok: false; reason: 'invalid' | 'unavailable'; message: string };

const MAX_SUBJECT_LENGTH = 256;

/**
 * A bearer that looks like a compact JWS (three base64url parts, a JSON header), so it is verified as
 * a token rather than looked up as an API key. Keys made by `openssl rand -hex` never match.
 */
export function looksLikeJwt(bearer: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer);
}

/**
 * Verifies tokens with jose (Web Crypto, so it runs on Workers too): signature, allowed algorithms,
 * `exp`/`nbf` against the injected clock with the configured skew, and `iss`/`aud` when set.
 * Messages say which check failed, never echo the token. With `tokenCacheSize`, a token that verified is
 * remembered by its digest, and its next uses check only `exp` and `nbf` again (token-cache.ts).
 */
export function jwtVerifier(options: JwtVerifierOptions): (token: string) => Promise<JwtOutcome> {
  const { secret, jwksUrl, callerClaim, issuer, audience, clockSkewMs, clock, requireExpiration, tokenCacheSize = 0, digest = sha256Hex } = options;
  const verifyJws = options.jwtVerify ?? jwtVerify;
  if (Boolean(secret) === Boolean(jwksUrl)) throw new TypeError('set exactly one of secret or jwksUrl');
  if (!callerClaim) throw new TypeError('callerClaim is required');
  if (!(Number.isInteger(tokenCacheSize) && tokenCacheSize >= 0)) throw new TypeError('tokenCacheSize must be an integer >= 0');
  const algorithms = options.algorithms ?? (secret ? ['HS256'] : ['RS256', 'ES256']);
  const cache = tokenCacheSize > 0 ? tokenCache({ maxEntries: tokenCacheSize, clockSkewMs, clock, keysValidUntil: secret ? Infinity : -Infinity }) : undefined;
  const key: Uint8Array | JWTVerifyGetKey = secret
    ? utf8(secret)
    : cachedJwks({
        url: jwksUrl!,
        fetch: options.fetch,
        clock,
        ttlMs: options.jwksCacheTtlMs,
        onKeys: cache && ((validUntil) => cache.keysChanged(validUntil)),
      });
  const requiredClaims = requireExpiration ? ['exp', callerClaim] : [callerClaim];

  return async function verify(token) {
    let id: string | undefined;
    let generation = 0;
    if (cache) {
      const found = digest(token);
      id = typeof found === 'string' ? found : await found;
      const subject = cache.get(id);
      if (subject !== undefined) return { ok: true, subject };
      generation = cache.generation;
    }
    try {
      const verifyOptions = {
        algorithms,
        clockTolerance: clockSkewMs / 1000,
        currentDate: new Date(clock.now()),
        requiredClaims,
        ...(issuer !== undefined ? { issuer } : {}),
        ...(audience !== undefined ? { audience } : {}),
      };
      const { payload } = typeof key === 'function' ? await verifyJws(token, key, verifyOptions) : await verifyJws(token, key, verifyOptions);
      const value = payload[callerClaim];
      if ((typeof value !== 'string' && typeof value !== 'number') || String(value).length === 0 || String(value).length > MAX_SUBJECT_LENGTH) {
        return { ok: false, reason: 'invalid', message: `The token's "${callerClaim}" claim does not name a caller.` };
      }
      const subject = String(value);
      if (cache) cache.set(id!, { subject, exp: payload.exp, nbf: payload.nbf }, generation);
      return { ok: true, subject };
    } catch (error) {
      return describe(error);
    }
  };
}

function describe(error: unknown): JwtOutcome {
  if (error instanceof JwksUnavailableError)
    return { ok: false, reason: 'unavailable', message: "The token issuer's keys could not be fetched. Please try again later." };
  if (error instanceof errors.JWTExpired) return { ok: false, reason: 'invalid', message: 'The token has expired.' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return { ok: false, reason: 'invalid', message: 'The token is not valid yet.' };
    if (error.claim === 'iss' || error.claim === 'aud') return { ok: false, reason: 'invalid', message: `The token's "${error.claim}" is not accepted here.` };
    if (error.reason === 'missing') return { ok: false, reason: 'invalid', message: `The token lacks the "${error.claim}" claim.` };
    return { ok: false, reason: 'invalid', message: `The token's "${error.claim}" claim is not valid.` };
  }
  if (error instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: 'invalid', message: 'The token is signed with an unknown key.' };
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: 'invalid', message: "The token's signing algorithm is not accepted." };
  // Bad signature, malformed token, unusable key: one message, so probing learns nothing more.
  return { ok: false, reason: 'invalid', message: 'The token is not valid.' };
}
