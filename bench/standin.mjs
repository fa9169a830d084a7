// The upstream stand-in: a minimal HTTP server that answers every request with one canned
// `Succeeded` StartSyncExecution body, verifying nothing, so the system under test is what gets measured.
// Usage: node bench/standin.mjs [--port N]   (prints "listening <port>" on stdout when ready)
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

export const CANNED_OUTPUT = { ok: true, greeting: 'hello from the stand-in', items: [1, 2, 3] };

export const CANNED_BODY = JSON.stringify({
  RequestId: '8B6F2C9E-0000-4000-8000-000000000001',
  FlowName: 'bench_flow',
  Name: 'bench_exec:11111111-2222-4333-8444-555555555555',
  Status: 'Succeeded',
  Output: JSON.stringify(CANNED_OUTPUT),
  StartedTime: '2024-01-01T00:00:00.000Z',
  StoppedTime: '2024-01-01T00:00:00.001Z',
});

const cannedBuffer = Buffer.from(CANNED_BODY);
const headers = {
  'content-type': 'application/json;charset=utf-8',
  'content-length': String(cannedBuffer.length),
  'x-acs-request-id': '8B6F2C9E-0000-4000-8000-000000000001',
};

export function startStandin(port = 0, host = '127.0.0.1') {
  const server = createServer((req, res) => {
    // Drain the body before answering so keep-alive connections stay usable.
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(cannedBuffer);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = await startStandin(Number(values.port));
  process.stdout.write(`listening ${server.address().port}\n`);
  const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
