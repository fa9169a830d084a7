// Micro-benchmark of the client-address rule: cost per request of working out the key an anonymous
// caller, auth.failureLimit and the caller-scoped stores use, for each trust mode, and the worst
// header a client can send (Node's 16 KiB header limit filled with entries a trusted list matches).
// Needs `npm run build` (dist/).
//   node bench/client-address.mjs [requests]      (BENCH_DIST picks another build than dist/)
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.BENCH_DIST ?? 'dist');
const { clientAddressResolver } = await import(pathToFileURL(resolve(dist, 'lib/client-address.js')).href);

const requests = Number(process.argv[2] ?? 200_000);
const worst = `198.51.100.9${', 10.1.2.3'.repeat(Math.floor(16_000 / 10))}`;

const cases = [
  ['peer only (trustProxy: false), IPv4', { trustProxy: false }, '198.51.100.9', {}],
  ['peer only, IPv6 keyed by /64', { trustProxy: false }, '2001:db8:1:2::a1', {}],
  ['peer only, NAT64 IPv6 keyed by its IPv4', { trustProxy: false }, '64:ff9b::198.51.100.9', {}],
  ['1 hop, X-Forwarded-For', { trustProxy: 1 }, '10.0.0.2', { 'x-forwarded-for': '10.9.9.1, 198.51.100.9' }],
  ['list [uniquelocal, loopback], 2 hops', { trustProxy: ['uniquelocal', 'loopback'] }, '10.0.0.2', { 'x-forwarded-for': '198.51.100.9, 10.0.0.3' }],
  [
    'Forwarded, 1 hop, quoted IPv6',
    { trustProxy: 1, forwardedHeader: 'forwarded' },
    '10.0.0.2',
    { forwarded: 'for=10.9.9.1, for="[2001:db8:cafe::17]:4711";proto=https' },
  ],
  ['cloudflare, edge peer', { trustProxy: 'cloudflare' }, '2606:4700::6810:1', { 'cf-connecting-ip': '198.51.100.9' }],
  ['worst case: 16 KiB of trusted hops', { trustProxy: ['uniquelocal'] }, '10.0.0.2', { 'x-forwarded-for': worst }],
];

for (const [label, options, peer, headers] of cases) {
  const resolveAddress = clientAddressResolver({ ipv6Prefix: 64, ...options });
  const header = (name) => headers[name];
  const count = label.startsWith('worst') ? Math.max(1, Math.floor(requests / 1000)) : requests;
  let key = '';
  for (let i = 0; i < Math.min(count, 1000); i++) key = resolveAddress(header, peer); // warm-up
  const started = performance.now();
  for (let i = 0; i < count; i++) key = resolveAddress(header, peer);
  const us = ((performance.now() - started) * 1000) / count;
  console.log(`${label.padEnd(40)} ${us.toFixed(2).padStart(8)} µs/request  -> ${key}  (${count} requests)`);
}
