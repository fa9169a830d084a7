import { RequestError } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, gatewayError, type GatewayError } from '../../errors.js';
import { framingRefusal } from '../../middleware/transfer-coding.js';

/**
 * The answers Node's HTTP server (and @hono/node-server's request adapter) would make on their own, for requests
 * that never reach the app: made here in the error envelope, `{RequestId, Code, Message}` with
 * `Content-Type: application/json` and `X-Request-Id`, from the one error table. These requests have no
 * access-log line: the app never sees them.
 */

/** An error from the table as the parts of an answer. */
function envelope(error: GatewayError): { status: number; headers: Record<string, string>; body: string } {
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(requestId, error));
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId },
    body,
  };
}

/** Writes an error from the table as the answer; `close` makes it the connection's last. */
function answer(res: ServerResponse, error: GatewayError, close: boolean): void {
  const parts = envelope(error);
  if (close) res.shouldKeepAlive = false;
  res.writeHead(parts.status, parts.headers).end(parts.body);
}

/**
 * RFC 9112 §3.2: a request with more than one Host field line is refused, whatever its version, and an
 * HTTP/1.1 request must have one (an HTTP/1.0 one may leave it out). Node keeps only the first of two Host
 * lines in `req.headers`, so the count comes from `rawHeaders`; two Hosts could otherwise route or key a
 * request by one value while a proxy in front read the other. Returns the refusal's reason, or undefined.
 */
function hostRefusal(req: IncomingMessage): string | undefined {
  if (req.headers.host === undefined) {
    return req.httpVersionMajor === 1 && req.httpVersionMinor === 1 ? 'it has no Host header.' : undefined;
  }
  let lines = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') lines++;
  }
  return lines > 1 ? 'it has more than one Host header.' : undefined;
}

/**
 * The request listener, behind the Host check Node makes itself (`requireHostHeader`, which must be off so
 * the answer can be made here): an HTTP/1.1 request without Host, or any request with two, is 400
 * `BadRequest`, and the connection closes.
 */
export function requireHost(listener: (req: IncomingMessage, res: ServerResponse) => unknown) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const refusal = hostRefusal(req);
    if (refusal !== undefined) answer(res, gatewayError('BadRequest', refusal), true);
    else void listener(req, res);
  };
}

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1), the server's `checkContinue` listener. Without it Node sends
 * `100 Continue` to every such request, inviting a body that would only be refused. No 100 is sent when the
 * head alone already calls for a refusal: a declared Content-Length over `server.maxBodySize` (the app answers
 * 413 without reading the body) or framing headers the app or the parser refuse (501 for a coding other than
 * `chunked`, 400 for Content-Length with Transfer-Encoding or a malformed Transfer-Encoding). Node closes such a
 * connection after a final answer sent without a 100 (ServerResponse.writeHead), so it never waits for bytes
 * that will not come or reads a late body as the next request. Anything else is told to continue.
 */
export function continueUnlessRefused(server: Server, maxBodySize: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const declared = req.headers['content-length'];
    const tooLarge = declared !== undefined && Number(declared) > maxBodySize;
    if (!tooLarge && hostRefusal(req) === undefined && !framingRefusal(declared, req.headers['transfer-encoding'])) res.writeContinue();
    server.emit('request', req, res);
  };
}

/**
 * Marks the answer to a request with refused framing headers (see framingRefusal) as the connection's last:
 * its body length cannot be trusted, so nothing after it on the connection can be read as a request
 * (RFC 9112 §6.3: respond 400, then close the connection).
 */
export function closeAfterRefusedFraming(req: IncomingMessage, res: ServerResponse): void {
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && framingRefusal(req.headers['content-length'], coding)) res.shouldKeepAlive = false;
}

/**
 * An expectation other than `100-continue` (the server's `checkExpectation` listener): 417 `ExpectationFailed`,
 * which Node would otherwise send bare. RFC 9110 §10.1.1 lets a server answer 417 to an expectation it cannot meet.
 */
export function refuseExpectation(_req: IncomingMessage, res: ServerResponse): void {
  answer(res, gatewayError('ExpectationFailed', undefined), false);
}

/**
 * A request @hono/node-server could not turn into a Web `Request` (its `errorHandler`): a request target or
 * `Host` that makes no URL (`OPTIONS *`, a backslash in the path, `Host: a@b`). 400 `BadRequest`; any other
 * failure before the app ran is 500 `InternalError`.
 */
export function answerRequestError(error: unknown): Response {
  const refusal =
    error instanceof RequestError
      ? gatewayError('BadRequest', 'its request target or Host header does not make a valid URL.')
      : gatewayError('InternalError', undefined);
  const parts = envelope(refusal);
  return new Response(parts.body, { status: parts.status, headers: parts.headers });
}

/** Node's parser error codes for headers the gateway itself refuses; the rest are Node's own answers. */
function parserRefusal(error: ParserError, socket: Duplex): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return gatewayError('RequestHeaderFieldsTooLarge', undefined);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return gatewayError('ChunkExtensionsTooLarge', undefined);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return gatewayError('RequestTimeout', undefined);
    case 'HPE_INVALID_TRANSFER_ENCODING': {
      // Node's parser raises this for Content-Length before Transfer-Encoding as well as for codings it refuses.
      const head = framingFields(error, socket);
      const both = head.contentLength !== undefined || /content-length/i.test(String(error.reason ?? ''));
      // `chunked,` names no other coding, but the parser refuses it too.
      return framingRefusal(both ? '' : undefined, head.transferEncoding ?? '') ?? gatewayError('BadRequest', 'its Transfer-Encoding could not be parsed.');
    }
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      // A Content-Length after a Transfer-Encoding lands here, as does one that is not a number or is given twice.
      return gatewayError('BadRequest', 'its Content-Length is not valid or comes with Transfer-Encoding.');
    default:
      return gatewayError('BadRequest', 'it could not be parsed.');
  }
}

interface ParserError extends NodeJS.ErrnoException {
  /** llhttp's description of the error. */
  reason?: string;
  /** The bytes the parser was given when it failed, and how many of them it had read (Node's prepareError). */
  rawPacket?: Buffer;
  bytesParsed?: number;
}

/**
 * The framing fields of the message Node's parser refused. When its head was complete, the parser already made
 * the message (`parser.incoming`, not yet complete); otherwise the fields are read from the head's lines in the
 * bytes the parser failed on, up to the end of the line it failed in. A head that came in several packets may
 * have lines in earlier ones; Content-Length is then also known from the parser's reason.
 */
function framingFields(error: ParserError, socket: Duplex): { contentLength?: string; transferEncoding?: string } {
  const incoming = (socket as Duplex & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
  if (incoming && !incoming.complete && incoming.headers['transfer-encoding'] !== undefined) {
    return { contentLength: incoming.headers['content-length'], transferEncoding: incoming.headers['transfer-encoding'] };
  }
  const fields: { contentLength?: string; transferEncoding?: string } = {};
  if (!error.rawPacket || error.bytesParsed === undefined) return fields;
  const text = error.rawPacket.toString('latin1');
  const failedAt = Math.min(error.bytesParsed, text.length);
  // The head began after the blank line that ended the previous message in this packet, if any.
  const start = text.lastIndexOf('\r\n\r\n', failedAt - 1);
  const lineEnd = text.indexOf('\n', failedAt);
  for (const line of text.slice(start === -1 ? 0 : start + 4, lineEnd === -1 ? text.length : lineEnd).split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') fields.contentLength = value;
    else if (name === 'transfer-encoding') fields.transferEncoding = fields.transferEncoding === undefined ? value : `${fields.transferEncoding}, ${value}`;
  }
  return fields;
}

/**
 * A request Node's HTTP parser refused (the server's `clientError` listener), answered from the error table:
 * 400 `BadRequest` for Content-Length with Transfer-Encoding in either order, a malformed Transfer-Encoding or
 * any other parse error; 501 `NotImplemented` for a transfer coding other than `chunked` (`gzip`,
 * `chunked, gzip`); 431, 413 and 408 where Node would send them. Like Node (lib/_http_server.js
 * socketOnError), it answers only when no answer has started on the connection, then closes it: after a parse
 * error its bytes cannot be trusted.
 */
export function answerClientError(error: ParserError, socket: Duplex): void {
  const current = (socket as Duplex & { _httpMessage?: { _headerSent: boolean } | null })._httpMessage;
  if (socket.writable && (!current || !current._headerSent)) {
    const parts = envelope(parserRefusal(error, socket));
    const head = Object.entries(parts.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${parts.status} ${STATUS_CODES[parts.status]}\r\n${head}connection: close\r\n\r\n${parts.body}`);
  }
  socket.destroy(error);
}
