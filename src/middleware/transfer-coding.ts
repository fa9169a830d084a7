import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';

/**
 * True when a `Transfer-Encoding` value names no coding but `chunked`, once: any case and whitespace, empty
 * list elements allowed (RFC 9110 §5.6.1). `gzip, chunked`, `chunked, chunked` or `identity` are not.
 */
export function onlyChunked(value: string): boolean {
  if (value === 'chunked') return true;
  let chunked = 0;
  for (const element of value.split(',')) {
    const coding = element.trim();
    if (coding === '') continue;
    if (coding.toLowerCase() !== 'chunked') return false;
    chunked++;
  }
  return chunked <= 1;
}

/**
 * Refuses a request whose `Transfer-Encoding` holds a coding other than `chunked` with 501 `NotImplemented`
 * (RFC 9112 §6.1: a server SHOULD answer 501 to a transfer coding it does not understand). The HTTP layer
 * decodes `chunked` only: a request sent as `gzip, chunked` would otherwise reach the flow as compressed bytes.
 * Runs on every route, before anything reads the body.
 */
export function transferCoding(): MiddlewareHandler<AppEnv> {
  // Not async: nothing here waits.
  return function transferCoding(c, next) {
    const value = c.req.header('transfer-encoding');
    if (value !== undefined && !onlyChunked(value)) throw gatewayError('NotImplemented', undefined);
    return next();
  };
}
