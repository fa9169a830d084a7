import { Pool } from 'undici';
import { endpointUrl } from '../cloudflow/client.js';
import type { Transport } from '../cloudflow/transport.js';

export interface PooledTransport {
  transport: Transport;
  close(): Promise<void>;
}

/**
 * A keep-alive undici pool to the one upstream origin. `Pool.request` skips the WHATWG fetch layer,
 * which is most of the per-call cost of `fetch` on Node.
 */
export function undiciTransport(origin: string, options: { connections: number }): PooledTransport {
  const prefix = endpointUrl(origin).origin + '/';
  const pool = new Pool(origin, { connections: options.connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  const transport: Transport = async (request) => {
    // The client always calls the pool's own origin: slicing it off is cheaper than parsing a URL per call.
    const path = request.url.startsWith(prefix) ? request.url.slice(prefix.length - 1) : pathOf(request.url);
    const { host: _host, ...headers } = request.headers;
    const res = await pool.request({ path, method: request.method, headers, body: request.body, signal: request.signal });
    return {
      status: res.statusCode,
      header(name) {
        const value = res.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
      text: () => res.body.text(),
    };
  };
  return { transport, close: () => pool.close() };
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}
