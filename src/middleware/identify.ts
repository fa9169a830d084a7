import type { Context, MiddlewareHandler } from 'hono';
import type { Caller, AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';
import { sha256Hex } from '../cloudflow/crypto.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import { clientAddress } from '../lib/client-ip.js';

export interface CallerDefinition {
  apiKeys: string[];
  admin: boolean;
}

export interface IdentifyOptions {
  callers: Record<string, CallerDefinition>;
  trustProxy: boolean;
  clientIp(c: Context<AppEnv>): string | undefined;
}

/** The presented credential, from `X-API-Key` or `Authorization: Bearer`. */
export function presentedKey(c: Context): string | undefined {
  const header = c.req.header('x-api-key');
  if (header) return header.trim();
  const auth = c.req.header('authorization');
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return undefined;
}

/**
 * Sets the `caller` variable. Keys are kept only as SHA-256 digests, looked up by digest and then
 * compared in constant time; a key never reaches a log line.
 */
export function identify(options: IdentifyOptions): MiddlewareHandler<AppEnv> {
  const { callers, trustProxy, clientIp } = options;
  if (!callers || typeof callers !== 'object') throw new TypeError('callers must be an object');
  const byDigest: Promise<Map<string, { name: string; digest: string; admin: boolean }>> = (async () => {
    const map = new Map<string, { name: string; digest: string; admin: boolean }>();
    for (const [name, def] of Object.entries(callers)) {
      for (const key of def.apiKeys) {
        const digest = await sha256Hex(key);
        map.set(digest, { name, digest, admin: def.admin });
      }
    }
    return map;
  })();

  return async function identify(c, next) {
    const key = presentedKey(c);
    let caller: Caller;
    if (key !== undefined) {
      const digest = await sha256Hex(key);
      const found = (await byDigest).get(digest);
      if (!found || !constantTimeEqual(found.digest, digest)) throw gatewayError('InvalidCredentials', 'The API key is not valid.');
      caller = { id: found.name, kind: 'key', name: found.name, admin: found.admin };
    } else {
      caller = { id: `ip:${clientAddress(c, trustProxy, clientIp(c))}`, kind: 'anonymous', admin: false };
    }
    c.set('caller', caller);
    c.get('log').caller = caller.id;
    await next();
  };
}
