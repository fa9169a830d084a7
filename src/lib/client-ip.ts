import type { Context } from 'hono';

/**
 * The client address for anonymous callers. Forwarded headers are believed only with trustProxy,
 * because any client can send them.
 */
export function clientAddress(c: Context, trustProxy: boolean, peer: string | undefined): string {
  if (trustProxy) {
    const cf = c.req.header('cf-connecting-ip')?.trim();
    if (cf) return cf;
    const forwarded = c.req.header('x-forwarded-for');
    const first = forwarded?.split(',')[0]?.trim();
    if (first) return first;
  }
  return peer ?? 'unknown';
}
