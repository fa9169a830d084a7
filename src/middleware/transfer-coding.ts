import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError, type GatewayError } from '../errors.js';

/**
 * What a request's `Transfer-Encoding` (every field line, joined with ", ") asks for:
 * - `chunked`: `chunked` once, in any case, with any whitespace and empty list elements (RFC 9110 §5.6.1);
 * - `unsupported`: it names a coding other than `chunked` (`gzip`, `gzip, chunked`, `identity`): RFC 9112 §6.1
 *   has a server answer 501 to a coding it does not understand;
 * - `malformed`: it names no other coding, but is not `chunked` once either: empty, `chunked` twice (a sender
 *   MUST NOT apply it twice, §6.1), `chunked` with parameters (it has none), a name that is not a token. The body
 *   length cannot be read reliably, which §6.3 answers with 400.
 */
export function transferCodingVerdict(value: string): 'chunked' | 'unsupported' | 'malformed' {
  if (value === 'chunked') return 'chunked';
  let chunked = 0;
  let malformed = false;
  for (const element of value.split(',')) {
    const coding = element.trim();
    if (coding === '') continue;
    const semicolon = coding.indexOf(';');
    const name = (semicolon === -1 ? coding : coding.slice(0, semicolon)).trimEnd().toLowerCase();
    if (!TOKEN.test(name)) malformed = true;
    else if (name !== 'chunked') return 'unsupported';
    else if (++chunked > 1 || semicolon !== -1) malformed = true;
  }
  return malformed || chunked === 0 ? 'malformed' : 'chunked';
}

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The refusal a request's framing headers call for before its body is read, or undefined when they are fine:
 * - `Content-Length` together with `Transfer-Encoding` is 400 `BadRequest` in either order, whatever the codings:
 *   the shape of request smuggling, which RFC 9112 §6.3 says to handle as an error and a server may not pass on;
 * - a `Transfer-Encoding` naming a coding other than `chunked` is 501 `NotImplemented`;
 * - one that is malformed (see transferCodingVerdict) is 400 `BadRequest`.
 * `contentLength` and `transferEncoding` are the field values, undefined when absent.
 */
export function framingRefusal(contentLength: string | undefined, transferEncoding: string | undefined): GatewayError | undefined {
  if (transferEncoding === undefined) return undefined;
  if (contentLength !== undefined) return gatewayError('BadRequest', 'it has both Content-Length and Transfer-Encoding.');
  const verdict = transferCodingVerdict(transferEncoding);
  if (verdict === 'unsupported') return gatewayError('NotImplemented', undefined);
  if (verdict === 'malformed') return gatewayError('BadRequest', 'its Transfer-Encoding is not "chunked" once.');
  return undefined;
}

/**
 * Applies framingRefusal to every request, on every route, before anything reads the body: the HTTP layer
 * decodes `chunked` only, so a request sent as `gzip, chunked` would otherwise reach the flow as compressed
 * bytes. On Node the parser refuses most such requests itself, and the server answers them by the same rule.
 */
export function transferCoding(): MiddlewareHandler<AppEnv> {
  // Not async: nothing here waits.
  return function transferCoding(c, next) {
    const value = c.req.header('transfer-encoding');
    if (value !== undefined) {
      const refusal = framingRefusal(c.req.header('content-length'), value);
      if (refusal) throw refusal;
    }
    return next();
  };
}
