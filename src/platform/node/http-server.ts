import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { listenAddress } from './listen-address.js';

export interface ListenOptions {
  port: number;
  host: string;
  /** Given to `http.createServer`: header and request deadlines, and how often Node checks them. */
  serverOptions?: ServerOptions | undefined;
  /** Listeners and timeouts to set before the first connection (they run before `listen`). */
  configure?: ((server: Server) => void) | undefined;
  /** Answers a request the adapter could not turn into a `Request` (a bad URL or Host); Node's bare 500 otherwise. */
  errorHandler?: ((error: unknown) => Response | Promise<Response>) | undefined;
  /** Serve HTTPS with this certificate and key (PEM) instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Wraps the request listener, for checks that must run before the adapter sees the request. */
  wrapListener?: ((listener: (req: IncomingMessage, res: ServerResponse) => unknown) => (req: IncomingMessage, res: ServerResponse) => unknown) | undefined;
}

export interface HttpServer {
  server: ServerType;
  /** The port bound (the one the OS chose for port 0). */
  port: number;
  host: string;
  /** A URL this machine reaches the server at: a wildcard host is shown as 127.0.0.1, IPv6 in brackets. */
  url: string;
  /**
   * Stops accepting, answers what is in flight (new requests on kept-alive sockets get `Connection: close`),
   * and waits for those answers and `drain` for up to `graceMs`; past it, cuts every connection. Resolves
   * once the server is closed.
   */
  close(graceMs: number, drain?: () => Promise<void>): Promise<void>;
}

/**
 * A Web-standard `fetch` handler served over Node's HTTP server (`@hono/node-server`), with the lifecycle
 * the gateway and the emulator share: answers in flight are tracked, and closing drains them before it
 * cuts anything. Rejects when the port cannot be bound (EADDRINUSE, EACCES).
 */
export function listen(fetch: (request: Request) => Response | Promise<Response>, options: ListenOptions): Promise<HttpServer> {
  const { port, host, serverOptions, configure, errorHandler, wrapListener, tls } = options;
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  return new Promise((resolve, reject) => {
    // @hono/node-server's serve(), spelled out so the listener can be wrapped and given an errorHandler.
    const listener = getRequestListener(fetch, { hostname: host, ...(errorHandler ? { errorHandler } : {}) });
    const handler = wrapListener ? wrapListener(listener) : listener;
    const server: Server = tls ? createTlsServer({ ...serverOptions, cert: tls.cert, key: tls.key }, handler) : createServer(serverOptions ?? {}, handler);
    server.listen(port, host, () => {
      const info = server.address() as AddressInfo;
      resolve({
        server,
        port: info.port,
        host,
        url: tls ? listenAddress(host, info.port).url.replace(/^http:/, 'https:') : listenAddress(host, info.port).url,
        close(graceMs, drain) {
          closing = true;
          // Keep-alive sockets turn idle as their last answers finish; close each as it does.
          for (const res of inFlight) res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
          return closeGracefully(server, graceMs, drain);
        },
      });
    });
    server.once('error', reject);
    server.on('request', (_req, res: ServerResponse) => {
      if (closing) res.setHeader('connection', 'close');
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    });
    configure?.(server);
  });
}

async function closeGracefully(server: Server, graceMs: number, drain?: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([Promise.all([closed, drain?.()]).then(() => 'drained' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    server.closeAllConnections();
    await closed;
  }
}
