// B4: bare Hono on @hono/node-server answering a static JSON body — the ceiling for a cache hit,
// which needs no upstream at all. Usage: node bench/bare-hono.mjs --port N
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { parseArgs } from 'node:util';
import { CANNED_OUTPUT } from './standin.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const body = JSON.stringify(CANNED_OUTPUT);
const app = new Hono();
app.post('/flows/:name/run', (c) => c.body(body, 200, { 'content-type': 'application/json' }));

const server = serve({ fetch: app.fetch, port: Number(values.port), hostname: '127.0.0.1' }, (info) => process.stdout.write(`listening ${info.port}\n`));
server.keepAliveTimeout = 60_000;
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
