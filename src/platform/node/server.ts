import type { Hono } from 'hono';
import type { Config } from '../../config/load.js';
import type { AppEnv } from '../../env.js';
import { answerClientError, answerRequestError, closeAfterRefusedFraming, continueUnlessRefused, refuseExpectation, requireHost } from './http-edge.js';
import { listen, type HttpServer } from './http-server.js';
import { rememberPeer } from './peer-address.js';

export interface StartedServer extends Omit<HttpServer, 'close'> {
  /** Stops accepting, waits for requests in flight (and `drain`) up to shutdownTimeout, then closes the rest. */
  shutdown(drain?: () => Promise<void>): Promise<void>;
}

/** The gateway on Node's HTTP server, with `server.*` deadlines, the `Expect: 100-continue` rule and Node parser refusals answered. */
export async function startServer(
  app: Pick<Hono<AppEnv>, 'fetch'>,
  config: Config,
  overrides: { port?: number | undefined; host?: string | undefined } = {},
): Promise<StartedServer> {
  const { headersTimeout, requestTimeout, keepAliveTimeout, shutdownTimeout, maxBodySize } = config.server;
  // Node checks header and request deadlines on this interval (30 s by default), so it bounds how exact they are.
  const connectionsCheckingInterval = Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2)));
  const http = await listen(app.fetch, {
    port: overrides.port ?? config.server.port,
    host: overrides.host ?? config.server.host,
    // requireHost answers a missing Host in the error envelope instead of Node's bare 400.
    serverOptions: { connectionsCheckingInterval, headersTimeout, requestTimeout, requireHostHeader: false },
    // Requests the adapter cannot make a Request of get the envelope too.
    errorHandler: answerRequestError,
    wrapListener: requireHost,
    configure(server) {
      // Before any request on the connection: its peer address must outlive a client that resets it.
      server.on('connection', rememberPeer);
      server.on('checkContinue', continueUnlessRefused(server, maxBodySize));
      server.on('checkExpectation', refuseExpectation);
      server.on('clientError', answerClientError);
      server.on('request', closeAfterRefusedFraming);
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
