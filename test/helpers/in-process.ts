import type { Hono } from 'hono';
import { createApp } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config/load.js';
import type { AppEnv } from '../../src/env.js';
import type { GatewayOptions } from './gateway.js';
import type { LogLine } from '../../src/log.js';
import { createNodeRuntime, type NodeRuntime } from '../../src/platform/node/runtime.js';
import { answerOf, type Answer } from './post.js';
import { inProcessUpstreamAt } from './upstream-stub.js';

/** The address a request comes from when a test names none: a client on the same machine. */
export const LOOPBACK_PEER = '127.0.0.1';

export interface InProcessGateway {
  /** The origin requests are addressed to (`http://gateway-<n>.test`, one per gateway); nothing listens there. */
  url: string;
  config: Config;
  logs: LogLine[];
  runtime: NodeRuntime;
  app: Hono<AppEnv>;
  /**
   * `fetch` against the app, as a client on a connection from `peer` would send it (127.0.0.1 unless
   * given; `undefined` for none). A string body gets its Content-Length, as on the wire.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit & { peer?: string | undefined }): Promise<Response>;
  /** One request, with the answer read once and parsed when it is JSON (as helpers/post.ts `send`). */
  send(url: string, init?: { method?: string; body?: string | Uint8Array<ArrayBuffer>; headers?: HeadersInit; peer?: string | undefined }): Promise<Answer>;
  /**
   * One request through `app.request()`, as if it came over a connection from `peer` (the socket
   * address the Node server would report; undefined for none). Concurrent calls keep their own peers.
   */
  request(path: string, init: { peer: string | undefined; method?: string; body?: string; headers?: Record<string, string> }): Promise<Answer>;
  /** Resolves when background work (cache writes, ack runs) has settled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The gateway as the Node runtime builds it (its stores, its clock and randomness as given), without a
 * listening socket: requests go through `app.fetch`, the peer address comes in through `deps.clientIp`
 * (so tests send from any address, IPv6 and Cloudflare's included), and a config whose endpoint is an
 * open `inProcessUpstream()` calls that stub through its transport, every signature still verified by
 * the official library. For what needs a socket (slow clients, disconnects, drain on shutdown, raw HTTP)
 * use helpers/gateway.ts.
 */
export function inProcessGateway(raw: Record<string, unknown>, options: GatewayOptions = {}): InProcessGateway {
  const config = parseConfig(raw, options.env ?? {});
  const logs: LogLine[] = [];
  const transport = options.transport ?? inProcessUpstreamAt(config.upstream.endpoint)?.transport;
  const runtime = createNodeRuntime(config, { log: (line) => logs.push(line), ...options, ...(transport ? { transport } : {}) });
  runtime.deps.clientIp = (c) => (c.env as { peer?: string } | undefined)?.peer;
  options.adjustDeps?.(runtime.deps);
  const app = createApp(runtime.deps);
  const url = `http://gateway-${++opened}.test`;

  function gatewayFetch(input: RequestInfo | URL, init: RequestInit & { peer?: string | undefined } = {}): Promise<Response> {
    const { peer, ...rest } = init;
    const headers = new Headers(rest.headers ?? (input instanceof Request ? input.headers : undefined));
    if (typeof rest.body === 'string' && !headers.has('content-length')) headers.set('content-length', String(Buffer.byteLength(rest.body)));
    const request = new Request(input instanceof Request ? input : new URL(input, url), { ...rest, headers });
    return Promise.resolve(app.fetch(request, { peer: 'peer' in init ? peer : LOOPBACK_PEER }));
  }

  async function send(
    target: string,
    init: { method?: string; body?: string | Uint8Array<ArrayBuffer>; headers?: HeadersInit; peer?: string | undefined } = {},
  ): Promise<Answer> {
    const started = performance.now();
    const headers = new Headers(init.headers);
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const res = await gatewayFetch(target, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body,
      ...('peer' in init ? { peer: init.peer } : {}),
    });
    return answerOf(res, performance.now() - started);
  }

  const gateway: InProcessGateway = {
    url,
    config,
    logs,
    runtime,
    app,
    fetch: gatewayFetch,
    send,
    request: (path, init) => send(path, init),
    drain: () => runtime.drain(),
    async close() {
      gateways.delete(url);
      await runtime.drain();
      await runtime.close();
    },
  };
  gateways.set(url, gateway);
  return gateway;
}

const gateways = new Map<string, InProcessGateway>();
let opened = 0;

/**
 * `fetch` for in-process gateways: the request goes to the open gateway whose `url` is its origin, so a
 * test written against URLs reaches several gateways in process as it would over sockets.
 */
export function fetchInProcess(input: string | URL, init?: RequestInit & { peer?: string | undefined }): Promise<Response> {
  const gateway = gateways.get(new URL(input).origin);
  if (!gateway) throw new Error(`no in-process gateway is open at ${new URL(input).origin}`);
  return gateway.fetch(input, init);
}
