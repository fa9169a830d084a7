// What a route costs over /flows/{name}/run, measured in one process: the same gateway (built dist/, 24 routes,
// a canned upstream answer through an in-process transport, no sockets) answers the same POST body on
// `/flows/bench/run` and on the route `POST /v1/orders` (`input: "{body}"`), in interleaved batches, so machine
// load hits both alike. Prints the median time per 1000 requests of each and their ratio (route over run; below
// 1.05 meets "within 5%"). Usage: npm run build && node bench/routes.mjs [--rounds N]
import { parseArgs } from 'node:util';
import { createApp } from '../dist/app.js';
import { parseConfig } from '../dist/config/load.js';
import { createNodeRuntime } from '../dist/platform/node/runtime.js';
import { SMALL_BODY, cannedTransport } from './fixtures.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(values.rounds);
const BATCH = 1000;

const routes = [];
for (const resource of ['customers', 'invoices', 'products', 'carts', 'payments', 'shipments', 'refunds', 'users']) {
  routes.push({ method: 'GET', path: `/v1/${resource}/:id`, flow: 'bench', input: { id: '{path.id}' } });
  routes.push({ method: 'POST', path: `/v1/${resource}`, flow: 'bench', input: '{body}' });
  routes.push({ method: 'GET', path: `/v1/${resource}/:id/history`, flow: 'bench', input: { id: '{path.id}', page: '{query.page}' } });
}
routes.splice(11, 0, { method: 'POST', path: '/v1/orders', flow: 'bench', input: '{body}' });

const config = parseConfig(
  {
    upstream: { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' } },
    server: { accessLog: false },
    flows: { bench: { flowName: 'bench_flow', access: 'public' } },
    routes: routes.slice(0, 24),
  },
  {},
);
const runtime = createNodeRuntime(config, { transport: cannedTransport, log: () => {} });
runtime.deps.clientIp = () => '127.0.0.1';
const app = createApp(runtime.deps);
const body = SMALL_BODY;
const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };

async function batch(path, n) {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await app.fetch(new Request(`http://bench.test${path}`, { method: 'POST', headers, body }));
    const text = await res.text();
    if (res.status !== 200 || text !== '{"ok":true}') throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
  }
  return performance.now() - started;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
await batch('/flows/bench/run', 2 * BATCH); // warm-up, both paths
await batch('/v1/orders', 2 * BATCH);
const run = [];
const route = [];
for (let i = 0; i < ROUNDS; i++) {
  run.push(await batch('/flows/bench/run', BATCH));
  route.push(await batch('/v1/orders', BATCH));
}
const ratio = median(route) / median(run);
process.stdout.write(
  `${JSON.stringify({ rounds: ROUNDS, batch: BATCH, runMsPer1000: +median(run).toFixed(1), routeMsPer1000: +median(route).toFixed(1), routeOverRun: +ratio.toFixed(3) })}\n`,
);
await runtime.close();
