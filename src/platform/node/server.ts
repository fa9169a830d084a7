import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { Config } from '../../config/load.js';
import type { AppEnv } from '../../env.js';
import { answerClientError, answerRequestError, closeAfterRefusedFraming, continueUnlessRefused, refuseExpectation, requireHost } from './http-edge.js';
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
    const serverOptions = {
      connectionsCheckingInterval,
      headersTimeout: config.server.headersTimeout,
      requestTimeout: config.server.requestTimeout,
      // requireHost answers it in the error envelope instead.
      requireHostHeader: false,
    };
    // @hono/node-server's serve(), with an errorHandler: requests it cannot make a Request of get the envelope too.
    const listener = getRequestListener(app.fetch, { hostname: host, errorHandler: answerRequestError });
    const server: Server = createServer(serverOptions, requireHost(listener));
    server.listen(port, host, () => {
      const info = server.address() as AddressInfo;
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
    });
    server.once('error', reject);
    // Before any request on the connection: its peer address must outlive a client that resets it.
    server.on('connection', rememberPeer);
    server.on('checkContinue', continueUnlessRefused(server, config.server.maxBodySize));
    server.on('checkExpectation', refuseExpectation);
    server.on('clientError', answerClientError);
    server.on('request', (req, res: ServerResponse) => {
      closeAfterRefusedFraming(req, res);
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
