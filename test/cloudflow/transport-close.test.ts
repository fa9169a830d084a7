import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { undiciTransport } from '../../src/platform/node/transport.js';

// Found by the fault matrix (process-sigterm-stuck-upstream): after server.shutdownTimeout had cut off the
// clients, the process still waited for their upstream calls, up to upstream.timeout.
let server: ReturnType<typeof createServer>;
let origin: string;
const held: ServerResponse[] = [];
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    held.push(res);
    server.emit('held');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('close ends a call the upstream never answers, instead of waiting for its deadline', async () => {
  // A deadline far past the test's own timeout: reaching it would fail the test.
  const pooled = undiciTransport(origin, { connections: 2 });
  const arrived = once(server, 'held');
  const pending = pooled.transport({ url: `${origin}/`, method: 'POST', headers: {}, body: new Uint8Array(0), timeoutMs: 600_000 });
  const outcome = pending.then(
    () => 'answered',
    (error: Error) => error.name,
  );
  await arrived;
  await pooled.close();
  const settled = await outcome;
  expect(settled).not.toBe('answered');
  expect(settled).not.toBe('TimeoutError');
});
