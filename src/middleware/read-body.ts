import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';
import { readLimited } from '../lib/read-limited.js';
import { isJsonType } from '../lib/media-type.js';

/**
 * Checks the content type, then reads the raw body under `server.maxBodySize` while it streams.
 * Runs after identity and rate limiting, so refused callers cost no body read. A webhook flow's content
 * type is judged after its signature (`verifyWebhook`): senders post forms too, and an unsigned request
 * must be told 401 whatever it claims to carry. A route whose Input does not use `{body}` reads none.
 */
const EMPTY = new Uint8Array(0);

export function readBody(options: { maxBodySize: number }): MiddlewareHandler<AppEnv> {
  const { maxBodySize } = options;
  if (!Number.isInteger(maxBodySize) || maxBodySize <= 0) throw new TypeError('maxBodySize must be a positive integer');
  return async function readBody(c, next) {
    const route = c.get('route');
    if (route && !route.config.readsBody) {
      // The route's Input never reads a body: whatever came is not read, judged or buffered.
      c.set('rawBody', EMPTY);
      return next();
    }
    if (!c.get('flow').webhook) {
      const type = c.req.header('content-type');
      if (type === undefined || type === '') {
        // Only an empty body may come without a type: it means `{}`.
        const length = c.req.header('content-length');
        if (c.req.header('transfer-encoding') || (length !== undefined && length !== '0')) throw gatewayError('UnsupportedMediaType', undefined);
      } else if (!isJsonType(type)) {
        throw gatewayError('UnsupportedMediaType', undefined);
      }
    }
    const result = await readLimited(c.req.raw, maxBodySize);
    if (!result.ok) {
      if (result.reason === 'too-large') throw gatewayError('EntityTooLarge', maxBodySize);
      throw gatewayError('InvalidArgument', 'The request body could not be read.');
    }
    c.set('rawBody', result.bytes);
    await next();
  };
}
