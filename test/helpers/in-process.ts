import { createApp } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config/load.js';
import type { LogLine } from '../../src/log.js';
import { createNodeRuntime, type NodeDepsOptions } from '../../src/platform/node/runtime.js';
import { answerOf, type Answer } from './post.js';

export interface InProcessGateway {
  config: Config;
  logs: LogLine[];
  /**
   * One request through `app.request()`, as if it came over a connection from `peer` (the socket
   * address the Node server would report; undefined for none). Concurrent calls keep their own peers.
   */
  request(path: string, init: { peer: string | undefined; method?: string; body?: string; headers?: Record<string, string> }): Promise<Answer>;
  /** Waits for background work (cache writes, ack runs). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The app built by the Node runtime, without a listening socket: the peer address is injected
 * through `deps.clientIp`, so tests can send from any address, IPv6 and Cloudflare's included.
 */
export function inProcessGateway(raw: Record<string, unknown>, options: NodeDepsOptions & { env?: Record<string, string> } = {}): InProcessGateway {
  const config = parseConfig(raw, options.env ?? {});
  const logs: LogLine[] = [];
  const runtime = createNodeRuntime(config, { log: (line) => logs.push(line), ...options });
  runtime.deps.clientIp = (c) => (c.env as { peer?: string } | undefined)?.peer;
  const app = createApp(runtime.deps);
  return {
    config,
    logs,
    async request(path, init) {
      const headers = new Headers(init.headers);
      if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      const res = await app.request(
        `http://gateway.test${path}`,
        { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body },
        { peer: init.peer },
      );
      return answerOf(res);
    },
    drain: () => runtime.drain(),
    async close() {
      await runtime.drain();
      await runtime.close();
    },
  };
}
