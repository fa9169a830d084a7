// The JSON body check on its own, old way against new in one process: a depth scan followed by JSON.parse
// (what every request did before) against checkJsonObject (one pass, nothing built), plus what building the form
// body costs from the text (decoded, then encodeURIComponent) and from the bytes as received (a lookup table). CPU time per call (process.cpuUsage, so a busy neighbour hardly moves it),
// the two ways alternated in rounds, median of the rounds.
// `--with MODULE` imports a module (a package name or a path) first: one that makes a class
// extend String slows every string scan in the process (docs/design.md, "Rules for the hot path").
// Usage: node bench/input-check.mjs [--rounds N] [--with MODULE]      (BENCH_DIST picks the build, dist/ by default)
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { jsonOfSize } from './fixtures.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, with: { type: 'string' } } });
if (values.with) await import(values.with);
const dist = resolve(process.env.BENCH_DIST ?? 'dist');
const load = (path) => import(pathToFileURL(resolve(dist, path)).href);
const { checkJsonObject } = await load('lib/json-check.js');
const { jsonDepthExceeds } = await load('lib/json-depth.js');
const { formBody } = await load('cloudflow/signing/encoding.js');

const decoder = new TextDecoder('utf-8', { fatal: true });
const ways = {
  'depth scan + JSON.parse': (text) => !jsonDepthExceeds(text, 64) && JSON.parse(text) !== null,
  checkJsonObject: (text) => checkJsonObject(text, 64) === 'ok',
  'depth scan + JSON.parse, pretty': (text) => !jsonDepthExceeds(text, 64) && JSON.parse(text) !== null,
  'checkJsonObject, pretty': (text) => checkJsonObject(text, 64) === 'ok',
  'form body from text': (text) => formBody({ FlowName: 'f', Input: text }).length > 0,
  'form body from bytes': (_text, bytes) => formBody({ FlowName: 'f', Input: bytes }).length > 0,
};
// The ways that start from the bytes get no decode: the others decode in the measured loop, as the gateway does.
const fromBytes = new Set(['form body from bytes']);

function cpuUsPerCall(fn, bytes, calls, decode) {
  const started = process.cpuUsage();
  for (let i = 0; i < calls; i++) if (!fn(decode ? decoder.decode(bytes) : undefined, bytes)) throw new Error('check failed');
  const used = process.cpuUsage(started);
  return (used.user + used.system) / calls;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rounds = Number(values.rounds);
const rows = [];
for (const kib of [1, 8, 32, 48, 64]) {
  const compact = new TextEncoder().encode(jsonOfSize(kib * 1024));
  const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(jsonOfSize(kib * 1024)), null, 2));
  const calls = Math.max(20, Math.round(4000 / kib));
  const samples = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++)
    for (const [name, fn] of Object.entries(ways))
      samples[name].push(cpuUsPerCall(fn, name.endsWith('pretty') ? pretty : compact, calls, !fromBytes.has(name)));
  rows.push({ kib, ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) });
}
const names = Object.keys(ways);
process.stdout.write(
  `CPU µs per call (decode included, except from bytes), median of ${rounds} rounds; build ${dist}${values.with ? `; ${values.with} loaded first` : ''}\n\n`,
);
process.stdout.write(`| Input | ${names.join(' | ')} |\n|---:|${names.map(() => '---:').join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${row.kib} KiB | ${names.map((n) => row[n].toFixed(1)).join(' | ')} |\n`);
