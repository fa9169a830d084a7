import { Pool } from 'undici';
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
  const pool = new Pool(origin, { connections: options.connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  const transport: Transport = async (request) => {
    const url = new URL(request.url);
    const { host: _host, ...headers } = request.headers;
    const res = await pool.request({ path: url.pathname + url.search, method: request.method, headers, body: request.body, signal: request.signal });
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
