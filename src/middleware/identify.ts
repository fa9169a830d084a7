import type { Context, MiddlewareHandler, Next } from 'hono';
import type { Caller, AppEnv } from '../env.js';
import { gatewayError, type GatewayError } from '../errors.js';
import { sha256Hex, type Sha256Hex } from '../cloudflow/signing/digests.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import { looksLikeJwt, type JwtOutcome } from '../auth/jwt.js';
import type { AuthFailureLimiter } from '../auth/failure-limit.js';

export interface CallerDefinition {
  apiKeys: string[];
  admin: boolean;
}

export interface IdentifyOptions {
  callers: Record<string, CallerDefinition>;
  /**
   * The key of the request's client address (see clientAddressResolver): the anonymous caller's id
   * and the `failureLimit` key, so both always name the same client.
   */
  clientAddress(c: Context<AppEnv>): string;
  /** Verifies bearer tokens that look like JWTs (`auth.jwt`); without it every bearer is an API key. */
  verifyJwt?: ((token: string) => Promise<JwtOutcome>) | undefined;
  /** `auth.failureLimit`: failed authentications per client address; unlimited without it. */
  failureLimit?: AuthFailureLimiter | undefined;
  /** The digest keys are kept and looked up by; Web Crypto by default, synchronous node:crypto on Node. */
  digest?: Sha256Hex | undefined;
}

/** The presented credential, from `X-API-Key` or `Authorization: Bearer`. */
export function presentedKey(c: Context): string | undefined {
  return presentedCredential(c)?.value;
}

/** Where the credential came from matters: only a bearer may be a JWT; `X-API-Key` is always a key. */
function presentedCredential(c: Context): { value: string; bearer: boolean } | undefined {
  const header = c.req.header('x-api-key');
  if (header) return { value: header.trim(), bearer: false };
  const auth = c.req.header('authorization');
  if (auth && /^bearer\s+/i.test(auth)) return { value: auth.replace(/^bearer\s+/i, '').trim(), bearer: true };
  return undefined;
}

const INVALID_TOKEN = { 'www-authenticate': 'Bearer error="invalid_token"' };

/**
 * Sets the `caller` variable. Keys are kept only as SHA-256 digests, looked up by digest and then
 * compared in constant time; a key never reaches a log line. A bearer JWT names the caller by a
 * claim: `jwt:<value>`, or the configured caller of that name. Without a credential the caller is
 * its client address (`ip:<key>`, from clientAddress). With `failureLimit`, an address that
 * keeps presenting bad credentials is refused with 429 before its next credential is even looked at.
 */
export function identify(options: IdentifyOptions): MiddlewareHandler<AppEnv> {
  const { callers, clientAddress, verifyJwt, failureLimit, digest: digestOf = sha256Hex } = options;
  if (typeof clientAddress !== 'function') throw new TypeError('clientAddress must be a function');
  if (typeof digestOf !== 'function') throw new TypeError('digest must be a function');
  if (!callers || typeof callers !== 'object') throw new TypeError('callers must be an object');
  const byDigest: Promise<Map<string, { name: string; digest: string; admin: boolean }>> = (async () => {
    const map = new Map<string, { name: string; digest: string; admin: boolean }>();
    for (const [name, def] of Object.entries(callers)) {
      for (const key of def.apiKeys) {
        const digest = await digestOf(key);
        map.set(digest, { name, digest, admin: def.admin });
      }
    }
    return map;
  })();

  // A request without a credential is identified synchronously (docs/design.md, "Rules for the hot path").
  return function identify(c, next) {
    const credential = presentedCredential(c);
    if (credential !== undefined) return identifyCredential(c, next, credential);
    const caller: Caller = { id: `ip:${clientAddress(c)}`, kind: 'anonymous', admin: false };
    c.set('caller', caller);
    c.get('log').caller = caller.id;
    return next();
  };

  async function identifyCredential(c: Context<AppEnv>, next: Next, credential: { value: string; bearer: boolean }): Promise<void> {
    const log = c.get('log');
    // Looked up before the credential is judged, so an address over its failures learns nothing from the answer.
    const address = failureLimit ? clientAddress(c) : undefined;
    if (address !== undefined) await failureLimit!.admit(address, log);
    const failed = async (error: GatewayError): Promise<never> => {
      if (address !== undefined) await failureLimit!.charge(address, log);
      throw error;
    };
    let caller: Caller;
    if (credential.bearer && verifyJwt && looksLikeJwt(credential.value)) {
      const outcome = await verifyJwt(credential.value);
      if (!outcome.ok) {
        if (outcome.reason === 'unavailable') throw gatewayError('ServiceUnavailable', outcome.message, { headers: { 'retry-after': '5' } });
        return failed(gatewayError('InvalidCredentials', outcome.message, { headers: INVALID_TOKEN }));
      }
      const named = Object.hasOwn(callers, outcome.subject) ? callers[outcome.subject] : undefined;
      caller = named
        ? { id: outcome.subject, kind: 'jwt', name: outcome.subject, admin: named.admin }
        : { id: `jwt:${outcome.subject}`, kind: 'jwt', admin: false };
    } else {
      const key = credential.value;
      const digest = await digestOf(key);
      const found = (await byDigest).get(digest);
      if (!found || !constantTimeEqual(found.digest, digest)) return failed(gatewayError('InvalidCredentials', 'The API key is not valid.'));
      caller = { id: found.name, kind: 'key', name: found.name, admin: found.admin };
    }
    c.set('caller', caller);
    log.caller = caller.id;
    await next();
  }
}
