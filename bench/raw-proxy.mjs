// B1: the least a Node gateway can do — node:http in, an undici keep-alive Pool out, the body forwarded
// as-is. No signing, no checks, no mapping: the ceiling for any Node gateway in front of the stand-in.
// Usage: node bench/raw-proxy.mjs --port N --upstream http://127.0.0.1:M
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' }, connections: { type: 'string', default: '128' } },
});
if (!values.upstream) throw new Error('--upstream is required');
const pool = new Pool(values.upstream, { connections: Number(values.connections), keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const upstream = await pool.request({ path: '/', method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body });
      const answer = Buffer.from(await upstream.body.arrayBuffer());
      res.writeHead(upstream.statusCode, { 'content-type': upstream.headers['content-type'] ?? 'application/json', 'content-length': String(answer.length) });
      res.end(answer);
    } catch {
      res.writeHead(502).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
const stop = () => {
  server.close(() => pool.close().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
