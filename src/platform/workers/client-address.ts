import type { Context } from 'hono';
import type { AppEnv } from '../../env.js';

/**
 * On Workers the platform sets `CF-Connecting-IP` from the TCP peer and overwrites any value a
 * client sends, so it is the client address here and `server.trustProxy` does not apply (on Node the
 * same header is believed only with `trustProxy: cloudflare`, from Cloudflare's own addresses).
 */
export function workersClientIp(c: Context<AppEnv>): string | undefined {
  return c.req.header('cf-connecting-ip')?.trim() || undefined;
}
