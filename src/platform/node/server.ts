import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Hono } from 'hono';
import type { Config } from '../../config/load.js';
import type { AppEnv } from '../../env.js';
import { errorBody, gatewayError } from '../../errors.js';
import { listen, type HttpServer } from './http-server.js';

export interface StartedServer extends Omit<HttpServer, 'close'> {
  /** Stops accepting, waits for requests in flight (and `drain`) up to shutdownTimeout, then closes the rest. */
  shutdown(drain?: () => Promise<void>): Promise<void>;
}

/** The gateway on Node's HTTP server, with `server.*` deadlines, the `Expect: 100-continue` rule and Node parser refusals answered. */
export async function startServer(
  app: Hono<AppEnv>,
  config: Config,
  overrides: { port?: number | undefined; host?: string | undefined } = {},
): Promise<StartedServer> {
  const { headersTimeout, requestTimeout, keepAliveTimeout, shutdownTimeout, maxBodySize } = config.server;
  // Node checks header and request deadlines on this interval (30 s by default), so it bounds how exact they are.
  const connectionsCheckingInterval = Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2)));
  const http = await listen(app.fetch, {
    port: overrides.port ?? config.server.port,
    host: overrides.host ?? config.server.host,
    serverOptions: { connectionsCheckingInterval, headersTimeout, requestTimeout },
    configure(server) {
      server.on('checkContinue', continueUnlessTooLarge(server, maxBodySize));
      server.on('clientError', answerClientError);
      // Executions may run 5 minutes, so there is no idle cut-off on a socket awaiting its answer;
      // slow-loris clients are bounded by the header and request-receive deadlines instead.
      server.headersTimeout = headersTimeout;
      server.requestTimeout = requestTimeout;
      server.keepAliveTimeout = keepAliveTimeout;
      server.setTimeout(0);
    },
  });
  return { server: http.server, port: http.port, host: http.host, url: http.url, shutdown: (drain) => http.close(shutdownTimeout, drain) };
}

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1). Without this listener Node sends `100 Continue` to every such
 * request, inviting a body that would only be refused. A declared Content-Length over `server.maxBodySize`
 * gets no 100: the app answers it as any other (413 once it comes to the body) without reading the body,
 * which the client then never sends. Node closes such a connection after a final answer sent without a 100
 * (ServerResponse.writeHead), so it never waits for bytes that will not come or reads a late body as the
 * next request. Anything else is told to continue and handled as usual.
 */
function continueUnlessTooLarge(server: Server, maxBodySize: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const declared = req.headers['content-length'];
    if (declared === undefined || !(Number(declared) > maxBodySize)) res.writeContinue();
    server.emit('request', req, res);
  };
}

/** Node's own answers to requests its parser refused (lib/_http_server.js), kept for every other error. */
const NODE_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * A request Node's HTTP parser refused. A transfer coding other than `chunked` (`gzip`, `chunked, gzip`,
 * `identity`) gets 501 `NotImplemented` in the error envelope, as the app answers the codings the parser lets
 * through (`gzip, chunked`); any other parse error gets Node's own answer. Like Node, it answers only when no
 * answer has started on the connection, then closes it: after a parse error its bytes cannot be trusted.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const current = (socket as Duplex & { _httpMessage?: { _headerSent: boolean } | null })._httpMessage;
  if (socket.writable && (!current || !current._headerSent)) {
    socket.write(
      error.code === 'HPE_INVALID_TRANSFER_ENCODING'
        ? notImplemented()
        : `HTTP/1.1 ${NODE_ANSWERS[error.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`,
    );
  }
  socket.destroy(error);
}

function notImplemented(): string {
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(requestId, gatewayError('NotImplemented', undefined)));
  return `HTTP/1.1 501 Not Implemented\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`;
}
