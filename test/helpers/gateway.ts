import { createApp } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config/load.js';
import type { Deps } from '../../src/deps.js';
import type { LogLine } from '../../src/log.js';
import { createNodeRuntime, type NodeDepsOptions } from '../../src/platform/node/runtime.js';
import { startServer, type StartedServer } from '../../src/platform/node/server.js';

export interface TestGateway {
  url: string;
  config: Config;
  logs: LogLine[];
  server: StartedServer;
  /** Resolves when background work (cache writes, ack runs) has settled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions extends NodeDepsOptions {
  env?: Record<string, string>;
  /** Sees the dependencies the Node runtime chose before the app is built, to wrap one (a store a test watches). */
  adjustDeps?(deps: Deps): void;
}

/** The real Node server on an ephemeral loopback port, with its log lines captured. */
export async function startGateway(raw: Record<string, unknown>, options: GatewayOptions = {}): Promise<TestGateway> {
  const config = parseConfig(raw, options.env ?? {});
  const logs: LogLine[] = [];
  const runtime = createNodeRuntime(config, { log: (line) => logs.push(line), ...options });
  options.adjustDeps?.(runtime.deps);
  const app = createApp(runtime.deps);
  const server = await startServer(app, config, { port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${server.port}`,
    config,
    logs,
    server,
    drain: () => runtime.drain(),
    async close() {
      await server.shutdown(() => runtime.drain());
      await runtime.close();
    },
  };
}
