// Serves a benchmark Hono app the way every Hono-based server under test does: 127.0.0.1, a long
// keep-alive, "listening <port>" on stdout for the harness, and a prompt exit on SIGTERM/SIGINT.
import { serve } from '@hono/node-server';

export function serveForBench(app, port) {
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => process.stdout.write(`listening ${info.port}\n`));
  server.keepAliveTimeout = 60_000;
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
