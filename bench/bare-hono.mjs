// B4: bare Hono on @hono/node-server answering a static JSON body — the ceiling for a cache hit,
// which needs no upstream at all. With --mode hit (B4h) it does the least any cache hit must do
// before it can answer: read the body, parse it, hash it, look the hash up, answer the stored body.
// Usage: node bench/bare-hono.mjs --port N [--mode static|hit]
import { Hono } from 'hono';
import { serveForBench } from './serve-hono.mjs';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CANNED_OUTPUT } from './standin.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, mode: { type: 'string', default: 'static' } } });
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
} else if (values.mode === 'static') {
  app.post('/flows/:name/run', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
} else {
  throw new Error(`--mode must be static or hit, got ${values.mode}`);
}

serveForBench(app, Number(values.port));
