import { serve, type ServerType } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Hono } from 'hono';
import type { Config } from '../../config/load.js';
import type { AppEnv } from '../../env.js';
import { errorBody, gatewayError } from '../../errors.js';
import { rememberPeer } from './peer-address.js';

export interface StartedServer {
  server: ServerType;
  port: number;
  host: string;
  /** Stops accepting, waits for requests in flight (and `drain`) up to shutdownTimeout, then closes the rest. */
  shutdown(drain?: () => Promise<void>): Promise<void>;
}

export function startServer(
  app: Hono<AppEnv>,
  config: Config,
  overrides: { port?: number | undefined; host?: string | undefined } = {},
): Promise<StartedServer> {
  const port = overrides.port ?? config.server.port;
  const host = overrides.host ?? config.server.host;
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  return new Promise((resolve, reject) => {
    // Node checks header and request deadlines on this interval (30 s by default), so it bounds how exact they are.
    const connectionsCheckingInterval = Math.max(100, Math.min(1_000, Math.floor(config.server.headersTimeout / 2)));
    const serverOptions = { connectionsCheckingInterval, headersTimeout: config.server.headersTimeout, requestTimeout: config.server.requestTimeout };
    const server = serve({ fetch: app.fetch, port, hostname: host, serverOptions }, (info: AddressInfo) => {
      resolve({
        server,
        port: info.port,
        host,
        async shutdown(drain) {
          closing = true;
          // Keep-alive sockets turn idle as their last answers finish; close each as it does.
          for (const res of inFlight) res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
          await shutdown(server, config.server.shutdownTimeout, drain);
        },
      });
    }) as Server;
    server.once('error', reject);
    // Before any request on the connection: its peer address must outlive a client that resets it.
    server.on('connection', rememberPeer);
    server.on('checkContinue', continueUnlessTooLarge(server, config.server.maxBodySize));
    server.on('clientError', answerClientError);
    server.on('request', (_req, res: ServerResponse) => {
      if (closing) res.setHeader('connection', 'close');
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    });
    // Executions may run 5 minutes, so there is no idle cut-off on a socket awaiting its answer;
    // slow-loris clients are bounded by the header and request-receive deadlines instead.
    server.headersTimeout = config.server.headersTimeout;
    server.requestTimeout = config.server.requestTimeout;
    server.keepAliveTimeout = config.server.keepAliveTimeout;
    server.setTimeout(0);
  });
}

async function shutdown(server: Server, timeoutMs: number, drain?: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([Promise.all([closed, drain?.()]).then(() => 'drained' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') server.closeAllConnections();
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
