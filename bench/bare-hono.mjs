// B4: bare Hono on @hono/node-server answering a static JSON body — the ceiling for a cache hit,
// which needs no upstream at all. With --mode hit (B4h) it does the least any cache hit must do
// before it can answer: read the body, parse it, hash it, look the hash up, answer the stored body.
// With --mode proxy (B1h) it is B1 on Hono: the body forwarded as-is through an undici Pool, the
// upstream's answer returned; the least any Hono-based gateway does on a miss. With --mode client (B1c) it is
// flowgate's own CloudFlow client in a bare handler: the body checked as a JSON object, then StartSyncExecution
// signed (V3) and sent through flowgate's undici transport, the Output answered. That is the least any gateway in
// front of CloudFlow must do, with none of flowgate's pipeline around it (caller, limits, log, metrics, mapping).
// Usage: node bench/bare-hono.mjs --port N [--mode static|hit|proxy|client] [--upstream URL]   (BENCH_DIST picks the build for client)
import { Hono } from 'hono';
import { serveForBench } from './serve-hono.mjs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CANNED_OUTPUT } from './standin.mjs';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, mode: { type: 'string', default: 'static' }, upstream: { type: 'string' } },
});
const body = JSON.stringify(CANNED_OUTPUT);
const app = new Hono();
if (values.mode === 'hit') {
  // Every hash maps to the one stored answer, so every request is a hit.
  const stored = new Map();
  app.post('/flows/:name/run', async (c) => {
    const text = await c.req.text();
    JSON.parse(text);
    const key = createHash('sha256').update(text).digest('hex');
    if (!stored.has(key)) stored.set(key, body);
    return c.body(stored.get(key), 200, { 'content-type': 'application/json' });
  });
} else if (values.mode === 'proxy') {
  if (!values.upstream) throw new Error('--mode proxy needs --upstream');
  const pool = new Pool(values.upstream, { connections: 128, keepAliveTimeout: 30_000 });
  app.post('/flows/:name/run', async (c) => {
    const upstream = await pool.request({
      path: '/',
      method: 'POST',
      headers: { 'content-type': c.req.header('content-type') ?? 'application/json' },
      body: Buffer.from(await c.req.arrayBuffer()),
    });
    return c.body(await upstream.body.text(), upstream.statusCode, { 'content-type': upstream.headers['content-type'] ?? 'application/json' });
  });
} else if (values.mode === 'client') {
  if (!values.upstream) throw new Error('--mode client needs --upstream');
  const load = (path) => import(pathToFileURL(resolve(process.env.BENCH_DIST ?? 'dist', path)).href);
  const { createCloudFlowClient } = await load('cloudflow/client.js');
  const { staticCredentials } = await load('cloudflow/credentials.js');
  const { checkJsonObject } = await load('lib/json-check.js');
  const { undiciTransport } = await load('platform/node/transport.js');
  const { nodeCrypto } = await load('platform/node/digests.js');
  const client = createCloudFlowClient({
    endpoint: values.upstream,
    credentials: staticCredentials({ accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' }),
    transport: undiciTransport(values.upstream, { connections: 128 }).transport,
    crypto: nodeCrypto,
    timeoutMs: 30_000,
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  app.post('/flows/:name/run', async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (checkJsonObject(decoder.decode(bytes), 64) !== 'ok') return c.json({ Code: 'InvalidArgument' }, 400);
    const result = await client.startSyncExecution({ flowName: 'bench_flow', input: bytes });
    return c.body(result.output ?? 'null', 200, { 'content-type': 'application/json' });
  });
} else if (values.mode === 'static') {
  app.post('/flows/:name/run', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
} else {
  throw new Error(`--mode must be static, hit, proxy or client, got ${values.mode}`);
}

serveForBench(app, Number(values.port));
