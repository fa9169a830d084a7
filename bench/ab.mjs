// Two builds of the gateway side by side in one process: the same requests through each, in interleaved batches,
// so machine load hits both alike. Each build answers through its own in-process app (`app.fetch`, a canned
// upstream answer through an in-process transport, no sockets, no access log), so what is measured is the
// gateway's own work per request. Prints CPU µs per request (process.cpuUsage over a batch), median of the rounds,
// for 1–64 KiB Inputs on /flows/{name}/run, a 32 KiB GitHub delivery through the github preset, and the small body
// with an API key, a bearer JWT and an Idempotency-Key.
// Usage: npm run build && npx tsc -p tsconfig.build.json --outDir bench/out/dist-old   (on the old commit)
//        node bench/ab.mjs --old bench/out/dist-old [--new dist] [--rounds N]
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { SMALL_BODY, jsonOfSize, cannedTransport } from './fixtures.mjs';

const { values } = parseArgs({ options: { old: { type: 'string' }, new: { type: 'string', default: 'dist' }, rounds: { type: 'string', default: '7' } } });
if (!values.old) throw new Error('--old DIST is required (a build of the version to compare against)');
const ROUNDS = Number(values.rounds);
const SECRET = 'bench-github-hook-secret';
const API_KEY = 'bench-api-key-0123456789abcdef';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef012345';
// One client's bearer, sent on every request as an app would until it expires.
const JWT = await new SignJWT({ sub: 'bench-user' })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuedAt()
  .setExpirationTime('2h')
  .sign(new TextEncoder().encode(JWT_SECRET));

async function gateway(dist) {
  const at = (path) => import(pathToFileURL(resolve(dist, path)).href);
  const [{ createApp }, { parseConfig }, { createNodeRuntime }] = await Promise.all([at('app.js'), at('config/load.js'), at('platform/node/runtime.js')]);
  const config = parseConfig(
    {
      upstream: { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' } },
      server: { accessLog: false },
      callers: { app: { apiKeys: [API_KEY] } },
      auth: { jwt: { secret: JWT_SECRET } },
      flows: {
        bench: { flowName: 'bench_flow', access: 'public' },
        github: { flowName: 'bench_flow', webhook: { provider: 'github', secrets: [SECRET] } },
        keyed: { flowName: 'bench_flow', access: ['app'] },
        idempotent: { flowName: 'bench_flow', access: 'public', idempotency: { ttl: '1h' } },
        token: { flowName: 'bench_flow', access: ['jwt:*'] },
      },
    },
    {},
  );
  const runtime = createNodeRuntime(config, { transport: cannedTransport, log: () => {} });
  runtime.deps.clientIp = () => '127.0.0.1';
  return { app: createApp(runtime.deps), runtime };
}

const builds = { old: await gateway(values.old), new: await gateway(values.new) };
let deliveries = 0;
const cases = [1, 8, 32, 48, 64].map((kib) => {
  const body = jsonOfSize(kib * 1024);
  return {
    name: `${kib} KiB Input`,
    path: '/flows/bench/run',
    body,
    headers: () => ({ 'content-type': 'application/json' }),
    n: Math.max(40, Math.round(3000 / kib)),
  };
});
{
  const body = jsonOfSize(32 * 1024);
  const signature = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex');
  cases.push({
    name: '32 KiB GitHub delivery',
    path: '/flows/github/run',
    body,
    headers: () => ({
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': signature,
      'x-github-delivery': `d-${++deliveries}`,
    }),
    n: 100,
  });
}

// The small body through an API key, and with a fresh Idempotency-Key each time: the per-request digests.
let keys = 0;
cases.push(
  {
    name: 'small Input, X-API-Key',
    path: '/flows/keyed/run',
    body: SMALL_BODY,
    headers: () => ({ 'content-type': 'application/json', 'x-api-key': API_KEY }),
    n: 2000,
  },
  {
    name: 'small Input, bearer JWT (HS256)',
    path: '/flows/token/run',
    body: SMALL_BODY,
    headers: () => ({ 'content-type': 'application/json', authorization: `Bearer ${JWT}` }),
    n: 2000,
  },
  {
    name: 'small Input, Idempotency-Key',
    path: '/flows/idempotent/run',
    body: SMALL_BODY,
    headers: () => ({ 'content-type': 'application/json', 'idempotency-key': `k-${++keys}` }),
    n: 2000,
  },
);

async function batch({ app }, c) {
  const started = process.cpuUsage();
  for (let i = 0; i < c.n; i++) {
    const res = await app.fetch(new Request(`http://bench.test${c.path}`, { method: 'POST', headers: c.headers(), body: c.body }));
    const text = await res.text();
    if (res.status !== 200 || text !== '{"ok":true}') throw new Error(`${c.name} answered ${res.status}: ${text.slice(0, 200)}`);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / c.n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
process.stdout.write(`CPU µs per request, median of ${ROUNDS} interleaved rounds; old ${values.old}, new ${values.new}\n\n`);
process.stdout.write('| Request | old | new | new/old |\n|---|---:|---:|---:|\n');
for (const c of cases) {
  await batch(builds.old, c); // warm-up
  await batch(builds.new, c);
  const old = [];
  const now = [];
  for (let r = 0; r < ROUNDS; r++) {
    old.push(await batch(builds.old, c));
    now.push(await batch(builds.new, c));
  }
  process.stdout.write(`| ${c.name} | ${median(old).toFixed(0)} | ${median(now).toFixed(0)} | ${(median(now) / median(old)).toFixed(2)} |\n`);
}
await builds.old.runtime.close();
await builds.new.runtime.close();
