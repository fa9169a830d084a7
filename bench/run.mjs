// `npm run bench`: flowgate against the physical limit and against what users would write instead.
//
// Every system under test (SUT) runs as its own child process, so the peak RSS is that process's own;
// the load generator (autocannon, bench/load.mjs) is another process, and the upstream stand-in a third.
// Each run starts fresh processes, warms up, measures, reads VmHWM, and stops them. Runs are interleaved
// round-robin across scenarios, so drift on a shared machine hits every scenario alike; the reported
// figure is the median of the runs, metric by metric.
//
// Usage: node bench/run.mjs [--quick] [--only B2,B4,GROWTH,LATENCY,SOAK] [--profile] [--report] [--runs N] [--duration S] [--connections N] [--baseline DIST]
// Env:   BENCH_REDIS_URL (else a private redis-server), BENCH_DIST, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_RUNS, BENCH_WARMUP, BENCH_LATENCY_DURATION, BENCH_SOAK_DURATION
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CANNED_OUTPUT } from './standin.mjs';
import { formatTop, topSelfTime } from './profile-top.mjs';
import { SMALL_BODY, jsonOfSize } from './fixtures.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const OUT_DIR = join(BENCH_DIR, 'out');
// BENCH_DIST points at another build of the gateway (e.g. one no concurrent `npm test` rebuilds mid-run).
const DIST = resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const CLI = join(DIST, 'node.js');
// The Redis scenarios use a redis-server of their own, started on a free port and stopped at the end (it keeps
// nothing on disk), unless BENCH_REDIS_URL names one to use instead.
let REDIS_URL = process.env.BENCH_REDIS_URL;

// ---------------------------------------------------------------------------------------------- settings

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false },
    runs: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    baseline: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => /^\/\/ (Usage|Env):/.test(l))
      .map((l) => l.slice(3))
      .join('\n') + '\n',
  );
  process.exit(0);
}

function setting(flag, env, normal, quick) {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return flags.quick ? quick : normal;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${env} must be a positive number, got "${raw}"`);
  return value;
}

const settings = {
  runs: setting(flags.runs, 'BENCH_RUNS', flags.profile ? 1 : 3, 1),
  duration: setting(flags.duration, 'BENCH_DURATION', 10, 2),
  warmup: setting(undefined, 'BENCH_WARMUP', 3, 1),
  connections: setting(flags.connections, 'BENCH_CONNECTIONS', 50, 50),
  latencyDuration: setting(undefined, 'BENCH_LATENCY_DURATION', 5, 2),
  soakDuration: setting(undefined, 'BENCH_SOAK_DURATION', 60, 8),
};
const only = flags.only
  ? new Set(
      flags.only
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    )
  : undefined;
const partial = Boolean(only || flags.quick || flags.profile || flags.runs || flags.duration || flags.connections || flags.baseline);
// `--baseline DIST`: every flowgate scenario runs a second time, interleaved, against another build (e.g. of main),
// as `<id>@base`; the report compares the two in CPU µs per request, which load on the machine hardly moves.
const BASELINE_CLI = flags.baseline ? join(resolve(ROOT, flags.baseline), 'node.js') : undefined;

// ---------------------------------------------------------------------------------------------- workloads

const LARGE_BODY = jsonOfSize(48 * 1024);
/** Input sizes of the cost-growth table, in KiB. */
const GROWTH_KIB = [1, 8, 32, 64];
const GROWTH_BODIES = new Map(GROWTH_KIB.map((kib) => [kib, jsonOfSize(kib * 1024)]));

// B8: a GitHub delivery as GitHub sends it: a 32 KiB JSON body signed with the hook's secret (X-Hub-Signature-256).
// GitHub signs no timestamp, so one signature holds for every request; each gets its own X-GitHub-Delivery id,
// or all but the first would be answered as replays of a delivery already run.
const GITHUB_SECRET = 'bench-github-hook-secret';
const GITHUB_BODY = GROWTH_BODIES.get(32);
const GITHUB_HEADERS = {
  'content-type': 'application/json',
  'x-github-event': 'push',
  'x-hub-signature-256': 'sha256=' + createHmac('sha256', GITHUB_SECRET).update(GITHUB_BODY).digest('hex'),
};
const RUN_PATH = '/flows/bench/run';
const EXPECTED_OUTPUT = JSON.stringify(CANNED_OUTPUT);

function flowgateConfig(upstream, flowExtras = {}, topExtras = {}) {
  return {
    upstream: { endpoint: upstream, credentials: { accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' } },
    server: { host: '127.0.0.1' },
    flows: { bench: { flowName: 'bench_flow', access: 'public', ...flowExtras } },
    ...topExtras,
  };
}

// A policy far above any rate the machine can reach: the limiter's cost is measured, never a 429.
const NEVER_THROTTLES = { rate: '100000000/s', burst: 100000000 };

/**
 * kind: which process is the SUT. expect: 'output' (a gateway answering the flow's Output) or
 * 'envelope' (the stand-in's own body). feature: a probe that must pass or the scenario is skipped.
 */
const SCENARIOS = [
  { id: 'B0', what: 'load → upstream stand-in directly', meaning: "the upstream's own ceiling", kind: 'standin', expect: 'envelope' },
  { id: 'B1', what: 'load → raw Node proxy (undici Pool) → stand-in', meaning: 'the limit for any Node gateway', kind: 'raw-proxy', expect: 'envelope' },
  {
    id: 'B1h',
    what: 'load → bare Hono forwarding through an undici Pool → stand-in',
    meaning: 'the limit for any Hono-based gateway (reference, no target)',
    kind: 'bare-hono-proxy',
    expect: 'envelope',
  },
  {
    id: 'B2',
    what: 'load → flowgate, miss path: sign, forward, map → stand-in',
    meaning: 'our main path',
    kind: 'flowgate',
    config: (up) => flowgateConfig(up),
    expect: 'output',
  },
  {
    id: 'B1c',
    what: "load → flowgate's CloudFlow client in a bare Hono handler: check the JSON, sign, forward → stand-in",
    meaning: 'the least any CloudFlow gateway does on a miss, without the pipeline (reference, no target)',
    kind: 'bare-hono-client',
    expect: 'output',
  },
  {
    id: 'B3',
    what: 'load → flowgate, cache-hit path',
    meaning: 'our cached path',
    kind: 'flowgate',
    config: (up) => flowgateConfig(up, { cache: { ttl: '1h', scope: 'shared' } }),
    expect: 'output',
    feature: {
      name: 'response cache',
      check: (second) => /(^|;)\s*hit\b/i.test(second.headers.get('cache-status') ?? ''),
      needs: '"Cache-Status: flowgate; hit" on a repeated request',
    },
  },
  { id: 'B4', what: 'load → bare Hono on @hono/node-server, static JSON', meaning: 'the limit for the hit path', kind: 'bare-hono', expect: 'output' },
  {
    id: 'B4h',
    what: 'load → bare Hono: read, parse and hash the body, Map lookup, answer',
    meaning: 'the least any cache hit must do (reference, no target)',
    kind: 'bare-hono-hit',
    expect: 'output',
  },
  {
    id: 'B5',
    what: 'load → Hono + official @alicloud/openapi-client callApi → stand-in',
    meaning: 'what users write today instead',
    kind: 'official-client',
    expect: 'output',
  },
  {
    id: 'B6-memory',
    what: 'B2 + rate-limit policy, memory store',
    meaning: "the limiter's cost (in process)",
    kind: 'flowgate',
    config: (up) => flowgateConfig(up, { rateLimit: NEVER_THROTTLES }),
    expect: 'output',
    feature: { name: 'rate limiter', check: hasRateLimitHeaders, needs: 'RateLimit / RateLimit-Policy response headers' },
  },
  {
    id: 'B6-redis',
    what: 'B2 + rate-limit policy, Redis store',
    meaning: "the limiter's cost (shared store)",
    kind: 'flowgate',
    redis: true,
    config: (up, run) =>
      flowgateConfig(up, { rateLimit: NEVER_THROTTLES }, { store: REDIS_URL, storeOptions: { keyPrefix: `flowgate-bench:${process.pid}:${run}:` } }),
    expect: 'output',
    feature: { name: 'rate limiter', check: hasRateLimitHeaders, needs: 'RateLimit / RateLimit-Policy response headers' },
  },
  {
    id: 'BR',
    what: 'B2 through a route: POST /v1/orders (input "{body}") among 24 routes',
    meaning: "a route's cost: matching and the route's pipeline",
    kind: 'flowgate',
    path: '/v1/orders',
    config: (up) => flowgateConfig(up, {}, { routes: benchRoutes() }),
    expect: 'output',
  },
  {
    id: 'B7',
    what: 'B2 with a 48 KiB JSON input',
    meaning: 'cost growth with payload',
    kind: 'flowgate',
    config: (up) => flowgateConfig(up),
    body: LARGE_BODY,
    expect: 'output',
  },
  {
    id: 'B1L',
    what: 'B1 forwarding the 48 KiB body of B7',
    meaning: 'the limit for any Node gateway at 48 KiB',
    kind: 'raw-proxy',
    body: LARGE_BODY,
    expect: 'envelope',
  },
  {
    id: 'B1hL',
    what: 'B1h forwarding the 48 KiB body of B7',
    meaning: 'the limit for any Hono-based gateway at 48 KiB (the ceiling of B7)',
    kind: 'bare-hono-proxy',
    body: LARGE_BODY,
    expect: 'envelope',
  },
  {
    id: 'B1cL',
    what: 'B1c with the 48 KiB body of B7',
    meaning: 'the least any CloudFlow gateway does at 48 KiB: check, percent-encode, hash, sign, forward (reference, no target)',
    kind: 'bare-hono-client',
    body: LARGE_BODY,
    expect: 'output',
  },
  {
    id: 'B8',
    what: 'a 32 KiB GitHub delivery (X-Hub-Signature-256) through the github preset, a fresh X-GitHub-Delivery each',
    meaning: 'the webhook path: verify, de-duplicate, sign, forward, map',
    kind: 'flowgate',
    config: (up) => flowgateConfig(up, { access: 'public', webhook: { provider: 'github', secrets: [GITHUB_SECRET] } }),
    body: GITHUB_BODY,
    headers: GITHUB_HEADERS,
    uniqueHeader: 'x-github-delivery',
    expect: 'output',
  },
  // The cost-growth table (growth() below reads these ids): the bare Hono proxy, the client in a bare handler, flowgate.
  ...GROWTH_KIB.flatMap((kib) =>
    [
      ['G1h', `B1h forwarding a ${kib} KiB JSON body`, 'cost growth of the bare Hono proxy', 'bare-hono-proxy', 'envelope'],
      ['G1c', `B1c with a ${kib} KiB JSON Input`, 'cost growth of the least any CloudFlow gateway does', 'bare-hono-client', 'output'],
      ['G7', `B2 with a ${kib} KiB JSON Input`, "cost growth of flowgate's miss path", 'flowgate', 'output'],
    ].map(([prefix, what, meaning, kind, expect]) => ({
      id: `${prefix}-${kib}K`,
      what,
      meaning,
      kind,
      ...(kind === 'flowgate' && { config: (up) => flowgateConfig(up) }),
      body: GROWTH_BODIES.get(kib),
      expect,
    })),
  ),
];
if (BASELINE_CLI) {
  for (let i = SCENARIOS.length - 1; i >= 0; i--) {
    const scenario = SCENARIOS[i];
    if (scenario.kind === 'flowgate') SCENARIOS.splice(i + 1, 0, { ...scenario, id: `${scenario.id}@base`, cli: BASELINE_CLI, baselineOf: scenario.id });
  }
}

/** The route BR calls, behind 23 others of the shapes a REST front has, so the lookup is not a one-entry table. */
function benchRoutes() {
  const routes = [];
  for (const resource of ['customers', 'invoices', 'products', 'carts', 'payments', 'shipments', 'refunds', 'users']) {
    routes.push({ method: 'GET', path: `/v1/${resource}/:id`, flow: 'bench', input: { id: '{path.id}' } });
    routes.push({ method: 'POST', path: `/v1/${resource}`, flow: 'bench', input: '{body}' });
    routes.push({ method: 'GET', path: `/v1/${resource}/:id/history`, flow: 'bench', input: { id: '{path.id}', page: '{query.page}' } });
  }
  routes.splice(11, 0, { method: 'POST', path: '/v1/orders', flow: 'bench', input: '{body}' });
  return routes.slice(0, 24);
}

function hasRateLimitHeaders(response) {
  return response.headers.has('ratelimit') || response.headers.has('ratelimit-policy');
}

// Concurrency 1: the latency a single caller sees, for "added p50 of B2 over B0" and the Redis round trip.
const LATENCY = [
  { id: 'L-B0', base: 'B0' },
  { id: 'L-B1', base: 'B1' },
  { id: 'L-B2', base: 'B2' },
  { id: 'L-B6-redis', base: 'B6-redis' },
];

/** `--only` takes scenario ids (B2, B6 = both B6 variants), GROWTH (the G* scenarios), LATENCY (or L-B0, …), LIMITER and SOAK. */
function selected(id) {
  if (!only) return true;
  const upper = id.toUpperCase().replace(/@BASE$/, '');
  if (/^G/.test(upper) && only.has('GROWTH')) return true;
  if (upper.startsWith('L-')) return only.has(upper) || only.has('LATENCY');
  return only.has(upper) || only.has(upper.replace(/-.*/, ''));
}

// ---------------------------------------------------------------------------------------------- processes

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function tcpOpen(port) {
  return new Promise((resolveOpen) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

const children = new Set();

/** Starts one server process and waits until its port accepts connections. */
async function startProcess(kind, { upstream, configFile, profileName, cli = CLI } = {}) {
  const port = await freePort();
  const nodeArgs = [];
  if (profileName) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', OUT_DIR, '--cpu-prof-name', `${profileName}.cpuprofile`);
  const script = {
    standin: [join(BENCH_DIR, 'standin.mjs'), '--port', String(port)],
    'raw-proxy': [join(BENCH_DIR, 'raw-proxy.mjs'), '--port', String(port), '--upstream', upstream],
    'bare-hono': [join(BENCH_DIR, 'bare-hono.mjs'), '--port', String(port)],
    'bare-hono-hit': [join(BENCH_DIR, 'bare-hono.mjs'), '--port', String(port), '--mode', 'hit'],
    'bare-hono-proxy': [join(BENCH_DIR, 'bare-hono.mjs'), '--port', String(port), '--mode', 'proxy', '--upstream', upstream],
    'bare-hono-client': [join(BENCH_DIR, 'bare-hono.mjs'), '--port', String(port), '--mode', 'client', '--upstream', upstream],
    'official-client': [join(BENCH_DIR, 'official-client.mjs'), '--port', String(port), '--upstream', upstream],
    flowgate: [cli, 'serve', '--config', configFile, '--port', String(port), '--host', '127.0.0.1'],
  }[kind];
  // stdout is the gateway's access log: discarded, as a log shipper would take it off the box.
  const child = spawn(process.execPath, [...nodeArgs, ...script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const proc = { kind, port, pid: child.pid, url: `http://127.0.0.1:${port}`, child, exited, stderr: () => stderr };
  children.add(proc);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with code ${child.exitCode} before listening:\n${stderr}`);
    if (await tcpOpen(port)) break;
    if (Date.now() > deadline) throw new Error(`${kind} did not listen on ${port} within 15 s:\n${stderr}`);
    await sleep(30);
  }
  return proc;
}

/** SIGTERM, then wait (a CPU profile is written on a clean exit), then SIGKILL as a last resort. */
async function stopProcess(proc) {
  if (!proc) return;
  children.delete(proc);
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await proc.exited;
  clearTimeout(timer);
}

function killAll() {
  for (const proc of children) proc.child.kill('SIGKILL');
  privateRedis?.kill('SIGKILL');
}

let privateRedis;
/** Starts this run's own redis-server (no persistence) and points REDIS_URL at it; false when there is none to start. */
async function startPrivateRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const ready = await new Promise((resolveReady) => {
    let out = '';
    child.once('error', () => resolveReady(false));
    child.once('exit', () => resolveReady(false));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolveReady(true);
    });
  });
  if (!ready) return false;
  child.stdout.resume();
  privateRedis = child;
  REDIS_URL = `redis://127.0.0.1:${port}`;
  return true;
}
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
process.on('exit', killAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------- memory

/** Reads a `/proc/<pid>/status` field in kB, or undefined off Linux. */
function procStatus(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) the process has used so far, in ms, or undefined off Linux. The ticks
 * are USER_HZ (100 on Linux). CPU per request is steadier than req/s on a shared machine: a busy
 * neighbour slows the gateway down but barely changes what each request costs it.
 */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function psRssKb(pid) {
  return new Promise((resolveRss) => {
    const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ps.stdout.on('data', (d) => (out += d));
    ps.once('close', () => resolveRss(Number(out.trim()) || undefined));
    ps.once('error', () => resolveRss(undefined));
  });
}

/** Samples the resident set every `everyMs`; `max` is the fallback peak where VmHWM is not available. */
function rssSampler(pid, everyMs) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const kb = procStatus(pid, 'VmRSS') ?? (await psRssKb(pid));
      if (kb) samples.push({ at: Date.now(), kb });
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples.reduce((max, s) => Math.max(max, s.kb), 0);
    },
  };
}

// ---------------------------------------------------------------------------------------------- load

function runLoad(options, onMeasureStart) {
  return new Promise((resolveLoad, reject) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, 'load.mjs'), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let result;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      let newline;
      while ((newline = out.indexOf('\n')) >= 0) {
        const line = JSON.parse(out.slice(0, newline));
        out = out.slice(newline + 1);
        if (line.event === 'measure-start') onMeasureStart?.(line.at);
        if (line.event === 'result') result = line;
      }
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 && result ? resolveLoad(result) : reject(new Error(`load generator failed (${code}): ${err}`))));
  });
}

let probes = 0;
async function probe(url, body, path = RUN_PATH, scenario = {}) {
  const headers = { 'content-type': 'application/json', ...scenario.headers };
  if (scenario.uniqueHeader) headers[scenario.uniqueHeader] = `probe-${process.pid}-${++probes}`;
  const response = await fetch(url + path, { method: 'POST', headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function checkProbe(scenario, answer) {
  if (answer.status !== 200) throw new Error(`${scenario.id}: probe answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (scenario.expect === 'output' && answer.text !== EXPECTED_OUTPUT)
    throw new Error(`${scenario.id}: probe body is not the flow output: ${answer.text.slice(0, 300)}`);
  if (scenario.expect === 'envelope' && JSON.parse(answer.text).Status !== 'Succeeded')
    throw new Error(`${scenario.id}: probe body is not a Succeeded envelope`);
}

// ---------------------------------------------------------------------------------------------- runs

const workDir = mkdtempSync(join(tmpdir(), 'flowgate-bench-'));

async function withSystem(scenario, runTag, work) {
  const standin = await startProcess('standin', { profileName: flags.profile && scenario.kind === 'standin' ? `${runTag}` : undefined });
  let sut = standin;
  try {
    if (scenario.kind !== 'standin') {
      let configFile;
      if (scenario.config) {
        configFile = join(workDir, `${runTag}.json`);
        writeFileSync(configFile, JSON.stringify(scenario.config(standin.url, runTag), null, 2));
      }
      sut = await startProcess(scenario.kind, {
        upstream: standin.url,
        configFile,
        profileName: flags.profile ? runTag.replace('@', '-') : undefined,
        cli: scenario.cli,
      });
    }
    return await work(sut);
  } finally {
    if (sut !== standin) await stopProcess(sut);
    await stopProcess(standin);
  }
}

/** Whether the build has the feature a scenario needs, judged by the gateway's own answers. */
async function availability(scenario) {
  if (scenario.redis && !(await redisPing())) return `Redis not reachable at ${REDIS_URL}`;
  if (!scenario.feature) return undefined;
  return withSystem({ ...scenario, kind: scenario.kind }, `${scenario.id}-probe`, async (sut) => {
    const body = scenario.body ?? SMALL_BODY;
    const first = await probe(sut.url, body, scenario.path, scenario);
    checkProbe(scenario, first);
    const second = await probe(sut.url, body, scenario.path, scenario);
    checkProbe(scenario, second);
    return scenario.feature.check(second) ? undefined : `not available in this build (no ${scenario.feature.name}: the probe got no ${scenario.feature.needs})`;
  }).catch((error) => `not available in this build (${error.message.split('\n')[0]})`);
}

async function measure(scenario, runTag, { connections, duration, sampleEveryMs = 250, onSample } = {}) {
  return withSystem(scenario, runTag, async (sut) => {
    const body = scenario.body ?? SMALL_BODY;
    checkProbe(scenario, await probe(sut.url, body, scenario.path, scenario));
    const sampler = rssSampler(sut.pid, sampleEveryMs);
    let measureStart;
    let cpuAtStart;
    const load = await runLoad(
      {
        url: sut.url + (scenario.path ?? RUN_PATH),
        connections,
        duration,
        warmup: settings.warmup,
        body,
        headers: { 'content-type': 'application/json', ...scenario.headers },
        uniqueHeader: scenario.uniqueHeader,
      },
      (at) => {
        measureStart = at;
        cpuAtStart = cpuMs(sut.pid);
      },
    );
    const cpuAtEnd = cpuMs(sut.pid);
    const answered = load.total + load.non2xx;
    const cpuUsPerRequest = cpuAtStart !== undefined && cpuAtEnd !== undefined && answered > 0 ? ((cpuAtEnd - cpuAtStart) * 1000) / answered : null;
    const sampledMax = await sampler.stop();
    const peakKb = procStatus(sut.pid, 'VmHWM') ?? sampledMax;
    onSample?.(sampler.samples, measureStart);
    if (load.total === 0) throw new Error(`${scenario.id}: no successful responses (${load.non2xx} non-2xx, ${load.errors} errors)\n${sut.stderr()}`);
    return { ...load, cpuUsPerRequest, peakRssMiB: peakKb / 1024 };
  });
}

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
  };
}

/** Runs bench/limiter.mjs against the same build and reads its `<label> <µs> µs/decision` lines. */
function limiterMicro() {
  return new Promise((resolveMicro) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, 'limiter.mjs'), String(flags.quick ? 20_000 : 200_000)], {
      cwd: ROOT,
      env: { ...process.env, BENCH_DIST: DIST, REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('close', (code) => {
      const lines = [];
      for (const line of out.split('\n')) {
        const match = /^(.+?)\s+([\d.]+) µs\/decision\s*(.*)$/.exec(line);
        if (match) lines.push({ what: match[1].trim(), usPerDecision: Number(match[2]), note: match[3].trim() });
        else if (/skipped/.test(line)) lines.push({ what: line.trim(), usPerDecision: null, note: '' });
      }
      process.stderr.write(out);
      resolveMicro(code === 0 ? lines : [{ what: `limiter micro-benchmark failed (${code})`, usPerDecision: null, note: out.slice(-300) }]);
    });
  });
}

async function redisPing() {
  return new Promise((resolvePing) => {
    const url = new URL(REDIS_URL);
    const socket = connect(Number(url.port || 6379), url.hostname);
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolvePing(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolvePing(false));
    socket.once('close', () => resolvePing(false));
  });
}

/** p50 of a Redis PING round trip over one connection: what "one round trip" costs on this machine. */
async function redisRoundTripMs(count = 2000) {
  const url = new URL(REDIS_URL);
  const socket = connect(Number(url.port || 6379), url.hostname);
  await new Promise((r, j) => socket.once('connect', r).once('error', j));
  socket.setNoDelay(true);
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await new Promise((r) => {
      socket.once('data', r);
      socket.write('PING\r\n');
    });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  socket.destroy();
  return median(times);
}

function machineLine() {
  const cpuModel = cpus()[0]?.model?.trim() || 'unknown CPU';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim()) || nproc;
  } catch {
    // `nproc` respects CPU affinity; os.cpus() does not. Either is fine as a description.
  }
  return `${cpuModel}, ${nproc} cores (nproc), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}, autocannon ${autocannonVersion()}`;
}

function autocannonVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------- report

const fmt = (value, digits = 0) =>
  value === null || value === undefined ? '—' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a, b) => (a && b ? a / b : null);

/** Least-squares slope of y over x: µs per KiB when x is KiB and y is CPU µs per request. */
function slope(points) {
  const usable = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (usable.length < 2) return null;
  const mx = usable.reduce((sum, [x]) => sum + x, 0) / usable.length;
  const my = usable.reduce((sum, [, y]) => sum + y, 0) / usable.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of usable) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : null;
}

/** µs per request over the Input size in KiB; null when not measured. */
const perKiB = (us, kib) => (us === null ? null : us / kib);

/** The cost-growth table: CPU µs per request of the bare Hono proxy and of flowgate at each Input size. */
function growth(results) {
  const cpu = (id) => results.scenarios[id]?.summary?.cpuUsPerRequest ?? null;
  const rows = GROWTH_KIB.map((kib) => ({ kib, proxyUs: cpu(`G1h-${kib}K`), clientUs: cpu(`G1c-${kib}K`), flowgateUs: cpu(`G7-${kib}K`) })).filter(
    (row) => row.proxyUs !== null || row.clientUs !== null || row.flowgateUs !== null,
  );
  if (rows.length === 0) return null;
  return {
    rows,
    proxyUsPerKiB: slope(rows.map((r) => [r.kib, r.proxyUs])),
    clientUsPerKiB: slope(rows.map((r) => [r.kib, r.clientUs])),
    flowgateUsPerKiB: slope(rows.map((r) => [r.kib, r.flowgateUs])),
  };
}

function evaluate(results) {
  const s = (id) => results.scenarios[id]?.summary;
  const l = (id) => results.latency[id]?.summary;
  const r = {};
  const b1b5 = ratio(s('B1')?.rps, s('B5')?.rps);
  // Each target names the ceiling it is measured against: the same ratio for a system that does nothing
  // beyond forwarding, from the same run. A target above its ceiling cannot be met by any gateway here.
  r['B2/B1h'] = {
    value: ratio(s('B2')?.rps, s('B1h')?.rps),
    target: '≥ 0.85',
    ceiling: 'B1h/B1h = 1: bare Hono forwarding the body',
    met: (v) => v >= 0.85,
    what: 'req/s of our main path over bare Hono forwarding the body: what the checks, signing, mapping and log cost',
  };
  r['B3/B4h'] = {
    value: ratio(s('B3')?.rps, s('B4h')?.rps),
    target: '≥ 0.90',
    ceiling: 'B4h/B4h = 1: the least any cache hit must do',
    met: (v) => v >= 0.9,
    what: 'req/s of our cache hit over the least any cache hit must do',
  };
  r['B2/B5'] = {
    value: ratio(s('B2')?.rps, s('B5')?.rps),
    target: b1b5 ? `≥ 0.85 × B1/B5 = ${fmt(0.85 * b1b5, 2)}` : '≥ 0.85 × B1/B5',
    ceiling: b1b5 ? `B1/B5 = ${fmt(b1b5, 2)}` : 'B1/B5',
    met: b1b5 ? (v) => v >= 0.85 * b1b5 : undefined,
    what: 'req/s of flowgate over the official client in a handler',
  };
  r['B7/B1hL'] = {
    value: ratio(s('B7')?.rps, s('B1hL')?.rps),
    target: '≥ 0.5',
    ceiling: s('B1L') && s('B1hL') ? `B1hL/B1hL = 1 (B1hL/B1L = ${fmt(ratio(s('B1hL').rps, s('B1L').rps), 2)})` : 'B1hL/B1hL = 1',
    met: (v) => v >= 0.5,
    what: 'req/s with a 48 KiB Input over bare Hono forwarding the same 48 KiB',
  };
  const g = growth(results);
  r['growth per KiB, flowgate/proxy'] = {
    value: g ? ratio(g.flowgateUsPerKiB, g.proxyUsPerKiB) : null,
    target: '≤ 2',
    ceiling: g ? `proxy ${fmt(g.proxyUsPerKiB, 2)} µs/KiB, flowgate ${fmt(g.flowgateUsPerKiB, 2)} µs/KiB` : '—',
    met: (v) => v <= 2,
    what: 'CPU µs per request added per KiB of Input (least-squares slope over 1–64 KiB), flowgate over the bare Hono proxy',
  };
  r['growth per KiB, client/proxy'] = {
    value: g ? ratio(g.clientUsPerKiB, g.proxyUsPerKiB) : null,
    target: 'report',
    ceiling: g ? `client ${fmt(g.clientUsPerKiB, 2)} µs/KiB` : '—',
    what: "the same for flowgate's CloudFlow client in a bare handler (B1c): the least growth a gateway that checks, encodes and signs the Input can have",
  };
  const b1h32 = s('G1h-32K');
  r['B8/G1h-32K'] = {
    value: ratio(s('B8')?.rps, b1h32?.rps),
    target: 'report',
    ceiling: s('B8') && b1h32 ? `CPU ${fmt(s('B8').cpuUsPerRequest)} vs ${fmt(b1h32.cpuUsPerRequest)} µs/req` : '—',
    what: 'req/s of a 32 KiB GitHub delivery through the github preset over bare Hono forwarding 32 KiB',
  };
  const redisAdded = l('L-B6-redis') && l('L-B2') ? l('L-B6-redis').p50 - l('L-B2').p50 : null;
  const rtt = results.redisRoundTripMs;
  r['B6-redis added p50 @c=1'] = {
    value: redisAdded,
    unit: 'ms',
    target: rtt ? `≤ 1.5 Redis round trips (${fmt(1.5 * rtt, 3)} ms)` : '≤ 1.5 Redis round trips',
    ceiling: rtt ? `PING p50 ${fmt(rtt, 3)} ms` : '—',
    met: rtt ? (v) => v <= 1.5 * rtt : undefined,
    what: 'p50 latency the Redis limiter adds, one caller',
  };
  const soak = results.soak;
  r['RSS flat over soak'] = {
    value: soak ? soak.changePercent : null,
    unit: '%',
    target: `within ±10% over ${settings.soakDuration} s`,
    ceiling: '—',
    met: (v) => Math.abs(v) <= 10,
    what: 'resident set at the end of a saturated run against its start',
  };
  r['BR/B2'] = {
    value: ratio(s('BR')?.rps, s('B2')?.rps),
    target: '≥ 0.95',
    ceiling: 'B2/B2 = 1',
    met: (v) => v >= 0.95,
    what: 'req/s through a route over /flows/{name}/run: matching a route costs next to nothing',
  };
  // References without a target of their own.
  r['B2/B1'] = { value: ratio(s('B2')?.rps, s('B1')?.rps), target: 'report', what: 'req/s of our main path over the raw Node proxy' };
  r['B3/B4'] = { value: ratio(s('B3')?.rps, s('B4')?.rps), target: 'report', what: 'req/s of our cache hit over bare Hono' };
  r['B1/B5 (ceiling of B2/B5)'] = { value: b1b5, target: 'report', what: 'req/s of the raw proxy over the official client: the most B2/B5 can be' };
  r['B1h/B1'] = {
    value: ratio(s('B1h')?.rps, s('B1')?.rps),
    target: 'report',
    what: 'req/s of bare Hono forwarding over the raw node:http proxy: what the framework itself costs',
  };
  r['B4h/B4'] = { value: ratio(s('B4h')?.rps, s('B4')?.rps), target: 'report', what: 'req/s of the least any cache hit must do over bare Hono' };
  const added = l('L-B2') && l('L-B0') ? l('L-B2').p50 - l('L-B0').p50 : null;
  r['added p50 B2−B0 @c=1'] = {
    value: added,
    unit: 'ms',
    target: 'report',
    what: 'p50 latency flowgate adds over calling the stand-in directly, one caller',
  };
  const proxyAdded = l('L-B1') && l('L-B0') ? l('L-B1').p50 - l('L-B0').p50 : null;
  r['added p50 B1−B0 @c=1 (floor)'] = {
    value: proxyAdded,
    unit: 'ms',
    target: 'report',
    what: 'p50 latency the raw proxy adds, one caller: the least any Node gateway adds',
  };
  r['B6-memory/B2'] = { value: ratio(s('B6-memory')?.rps, s('B2')?.rps), target: 'report', what: 'req/s with the in-process limiter over without' };
  r['B6-redis/B2'] = { value: ratio(s('B6-redis')?.rps, s('B2')?.rps), target: 'report', what: 'req/s with the Redis limiter over without' };
  r['B7/B2'] = { value: ratio(s('B7')?.rps, s('B2')?.rps), target: 'report', what: 'req/s with a 48 KiB input over a small one' };
  r['B2/B1c'] = {
    value: ratio(s('B2')?.rps, s('B1c')?.rps),
    target: 'report',
    what: 'req/s of our main path over its own CloudFlow client in a bare handler: what the pipeline around the call costs',
  };
  r['B7/B1cL'] = {
    value: ratio(s('B7')?.rps, s('B1cL')?.rps),
    target: 'report',
    what: 'the same at 48 KiB: what the pipeline costs when checking, encoding and hashing the Input is paid by both',
  };
  r['B1cL/B1hL'] = {
    value: ratio(s('B1cL')?.rps, s('B1hL')?.rps),
    target: 'report',
    what: 'req/s of the least a CloudFlow gateway does at 48 KiB over forwarding the bytes: the most B7/B1hL can be with this client',
  };
  for (const entry of Object.values(r)) {
    entry.status = entry.value === null ? 'not measured' : entry.met ? (entry.met(entry.value) ? 'met' : 'not met') : 'reported';
    entry.ceiling ??= '—';
    delete entry.met;
  }
  return r;
}

/** RSS change from the middle of the soak to its end, medians over 3-sample windows. */
function secondHalfChange(samplesMiB) {
  if (!samplesMiB || samplesMiB.length < 8) return null;
  const mid = samplesMiB.length >> 1;
  const at = (i) => median(samplesMiB.slice(Math.max(0, i - 1), i + 2));
  const from = at(mid);
  const to = at(samplesMiB.length - 2);
  return (100 * (to - from)) / from;
}

function markdown(results) {
  const lines = [];
  lines.push('# flowgate benchmark results', '');
  lines.push(`Machine: ${results.machine}.`, '');
  lines.push(
    `Settings: ${results.settings.connections} connections, ${results.settings.duration} s measured after ${results.settings.warmup} s warm-up, median of ${results.settings.runs} run(s) (fresh processes per run, scenarios interleaved); concurrency-1 runs of ${results.settings.latencyDuration} s; RSS soak ${results.settings.soakDuration} s. Run at ${results.startedAt}; 1-minute load average ${results.loadBefore.toFixed(2)} before, ${results.loadAfter.toFixed(2)} after${results.partial ? ' — **partial run** (flags or env overrides)' : ''}.`,
    '',
  );
  lines.push('| Scenario | What | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | Notes |', '|---|---|---:|---:|---:|---:|---:|---|');
  for (const scenario of SCENARIOS) {
    const entry = results.scenarios[scenario.id];
    if (!entry) continue;
    if (entry.skipped) {
      lines.push(`| ${scenario.id} | ${scenario.what} | — | — | — | — | — | skipped: ${entry.skipped} |`);
      continue;
    }
    const s = entry.summary;
    const notes = [scenario.meaning];
    if (s.non2xx || s.errors) notes.push(`${s.non2xx} non-2xx, ${s.errors} errors`);
    lines.push(
      `| ${scenario.id} | ${scenario.what} | ${fmt(s.rps)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ${fmt(s.cpuUsPerRequest)} | ${fmt(s.peakRssMiB, 1)} | ${notes.join('; ')} |`,
    );
  }
  if (Object.keys(results.latency).length) {
    lines.push('', '**Concurrency 1** (one connection, one request at a time):', '', '| Run | req/s | p50 ms | p99 ms | Notes |', '|---|---:|---:|---:|---|');
    for (const [id, entry] of Object.entries(results.latency)) {
      if (entry.skipped) lines.push(`| ${id} | — | — | — | skipped: ${entry.skipped} |`);
      else lines.push(`| ${id} | ${fmt(entry.summary.rps)} | ${fmt(entry.summary.p50, 3)} | ${fmt(entry.summary.p99, 3)} | ${entry.base} at concurrency 1 |`);
    }
    if (results.redisRoundTripMs) lines.push('', `Redis PING round trip p50 on this machine: ${fmt(results.redisRoundTripMs, 3)} ms.`);
  }
  if (results.limiter?.length) {
    lines.push(
      '',
      '**Limiter alone** (`bench/limiter.mjs`: three policies per decision — caller GCRA, daily quota, flow GCRA):',
      '',
      '| Store | µs per decision | Notes |',
      '|---|---:|---|',
    );
    for (const row of results.limiter) lines.push(`| ${row.what} | ${fmt(row.usPerDecision, 2)} | ${row.note} |`);
  }
  if (results.soak) {
    const k = results.soak;
    const half = secondHalfChange(k.samplesMiB);
    lines.push(
      '',
      `**RSS soak** (B2 at ${results.settings.connections} connections for ${k.seconds} s, VmRSS sampled every second): ${fmt(k.startMiB, 1)} MiB at the start → ${fmt(k.endMiB, 1)} MiB at the end (${k.changePercent >= 0 ? '+' : ''}${fmt(k.changePercent, 1)}%), max ${fmt(k.maxMiB, 1)} MiB, ${fmt(k.rps)} req/s.` +
        (half === null
          ? ''
          : ` Over the second half alone: ${half >= 0 ? '+' : ''}${fmt(half, 1)}% (growth that stops is heap sizing; growth that goes on is a leak).`),
    );
  }
  const g = growth(results);
  if (g) {
    lines.push(
      '',
      '**Cost growth with the Input** (CPU µs per request; per KiB = µs per request over the Input size):',
      '',
      '| Input | bare Hono proxy µs/req | CloudFlow client µs/req | flowgate µs/req | proxy µs/KiB | client µs/KiB | flowgate µs/KiB | flowgate/proxy |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of g.rows)
      lines.push(
        `| ${row.kib} KiB | ${fmt(row.proxyUs)} | ${fmt(row.clientUs)} | ${fmt(row.flowgateUs)} | ${fmt(perKiB(row.proxyUs, row.kib), 1)} | ${fmt(perKiB(row.clientUs, row.kib), 1)} | ${fmt(perKiB(row.flowgateUs, row.kib), 1)} | ${fmt(ratio(row.flowgateUs, row.proxyUs), 2)} |`,
      );
    lines.push(
      `| growth per KiB (least-squares slope) | | | | ${fmt(g.proxyUsPerKiB, 2)} | ${fmt(g.clientUsPerKiB, 2)} | ${fmt(g.flowgateUsPerKiB, 2)} | ${fmt(ratio(g.flowgateUsPerKiB, g.proxyUsPerKiB), 2)} |`,
      '',
      "The CloudFlow client column is B1c: flowgate's own client in a bare Hono handler, the least a gateway that must check the JSON, percent-encode it into the form body, hash and sign it can do.",
    );
  }
  const baselines = SCENARIOS.filter((sc) => sc.baselineOf && results.scenarios[sc.id]?.summary && results.scenarios[sc.baselineOf]?.summary);
  if (baselines.length) {
    lines.push(
      '',
      `**Against the baseline build** (\`--baseline\`, interleaved in the same run):`,
      '',
      '| Scenario | CPU µs/req now | CPU µs/req baseline | now/baseline | req/s now | req/s baseline |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const sc of baselines) {
      const now = results.scenarios[sc.baselineOf].summary;
      const base = results.scenarios[sc.id].summary;
      lines.push(
        `| ${sc.baselineOf} | ${fmt(now.cpuUsPerRequest)} | ${fmt(base.cpuUsPerRequest)} | ${fmt(ratio(now.cpuUsPerRequest, base.cpuUsPerRequest), 2)} | ${fmt(now.rps)} | ${fmt(base.rps)} |`,
      );
    }
  }
  lines.push('', '**Ratios and targets**', '', '| Ratio | Value | Target | Ceiling in the same run | Status | Meaning |', '|---|---:|---|---|---|---|');
  for (const [name, entry] of Object.entries(results.ratios)) {
    const value =
      entry.value === null ? '—' : entry.unit === 'ms' ? `${fmt(entry.value, 3)} ms` : entry.unit === '%' ? `${fmt(entry.value, 1)}%` : fmt(entry.value, 2);
    lines.push(`| ${name} | ${value} | ${entry.target} | ${entry.ceiling ?? '—'} | ${entry.status} | ${entry.what} |`);
  }
  lines.push(
    '',
    'req/s counts 2xx answers only. p50/p99 are exact percentiles of every 2xx latency (microsecond resolution). See docs/benchmarks.md for how to read this.',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm run bench does)`);
  mkdirSync(OUT_DIR, { recursive: true });
  if (REDIS_URL === undefined && !(await startPrivateRedis())) REDIS_URL = 'redis://127.0.0.1:0';
  if (flags.profile) for (const file of readdirSync(OUT_DIR)) if (file.endsWith('.cpuprofile')) rmSync(join(OUT_DIR, file));
  const log = (line) => process.stderr.write(line + '\n');
  const results = {
    machine: machineLine(),
    settings,
    partial,
    startedAt: new Date().toISOString(),
    scenarios: {},
    latency: {},
    soak: null,
    redisRoundTripMs: null,
  };
  results.loadBefore = loadavg()[0];
  log(`flowgate bench: ${results.machine}`);
  // The numbers only mean something on an otherwise idle machine; say so when it is not.
  if (results.loadBefore > cpus().length / 2)
    log(`warning: 1-minute load average is ${results.loadBefore.toFixed(2)} before the run; other work on this machine will skew the numbers`);
  log(
    `settings: ${JSON.stringify(settings)}${only ? ` only=${[...only].join(',')}` : ''}${flags.profile ? ' (profiling: numbers are not representative)' : ''}`,
  );

  const active = [];
  for (const scenario of SCENARIOS) {
    if (!selected(scenario.id)) continue;
    const skipped = await availability(scenario);
    if (skipped) {
      log(`${scenario.id}: skipped — ${skipped}`);
      results.scenarios[scenario.id] = { skipped };
    } else {
      active.push(scenario);
      results.scenarios[scenario.id] = { runs: [] };
    }
  }

  for (let run = 1; run <= settings.runs; run++) {
    for (const scenario of active) {
      const tag = `${scenario.id}-run${run}`;
      const result = await measure(scenario, tag, { connections: settings.connections, duration: settings.duration });
      results.scenarios[scenario.id].runs.push(result);
      log(
        `${tag}: ${fmt(result.rps)} req/s, p50 ${fmt(result.p50, 2)} ms, p99 ${fmt(result.p99, 2)} ms, CPU ${fmt(result.cpuUsPerRequest)} µs/req, peak RSS ${fmt(result.peakRssMiB, 1)} MiB${result.non2xx || result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
      );
    }
  }
  for (const scenario of active) results.scenarios[scenario.id].summary = summarize(results.scenarios[scenario.id].runs);

  const latencyActive = [];
  for (const entry of LATENCY) {
    if (!selected(entry.id)) continue;
    const base = SCENARIOS.find((s) => s.id === entry.base);
    const skipped = results.scenarios[base.id]?.skipped ?? (results.scenarios[base.id] ? undefined : await availability(base));
    if (skipped) {
      results.latency[entry.id] = { base: base.id, skipped };
      continue;
    }
    latencyActive.push({ ...entry, scenario: base });
    results.latency[entry.id] = { base: base.id, runs: [] };
  }
  for (let run = 1; run <= settings.runs; run++) {
    for (const entry of latencyActive) {
      const tag = `${entry.id}-run${run}`;
      const result = await measure(entry.scenario, tag, { connections: 1, duration: settings.latencyDuration });
      results.latency[entry.id].runs.push(result);
      log(`${tag}: p50 ${fmt(result.p50, 3)} ms, p99 ${fmt(result.p99, 3)} ms, ${fmt(result.rps)} req/s`);
    }
  }
  for (const entry of latencyActive) results.latency[entry.id].summary = summarize(results.latency[entry.id].runs);
  if (latencyActive.some((e) => e.scenario.redis)) results.redisRoundTripMs = await redisRoundTripMs();

  // The limiter on its own (bench/limiter.mjs): µs per decision in process, and per Redis round trip.
  if (selected('LIMITER') || (only && only.has('B6'))) results.limiter = await limiterMicro();

  if (selected('SOAK')) {
    const scenario = SCENARIOS.find((s) => s.id === 'B2');
    let samples = [];
    let started;
    const result = await measure(scenario, 'SOAK', {
      connections: settings.connections,
      duration: settings.soakDuration,
      sampleEveryMs: 1000,
      onSample: (all, at) => {
        samples = all.filter((s) => s.at >= at);
        started = at;
      },
    });
    // Start and end are medians over a window (a tenth of the run, at least 3 s) to ride out GC sawtooth.
    const windowMs = Math.max(3000, (settings.soakDuration * 1000) / 10);
    const end = started + settings.soakDuration * 1000;
    const startMiB = median(samples.filter((s) => s.at < started + windowMs).map((s) => s.kb)) / 1024;
    const endMiB = median(samples.filter((s) => s.at >= end - windowMs).map((s) => s.kb)) / 1024;
    const maxMiB = Math.max(...samples.map((s) => s.kb)) / 1024;
    results.soak = {
      seconds: settings.soakDuration,
      rps: result.rps,
      startMiB,
      endMiB,
      maxMiB,
      changePercent: (100 * (endMiB - startMiB)) / startMiB,
      samplesMiB: samples.map((s) => +(s.kb / 1024).toFixed(1)),
    };
    log(`SOAK: ${fmt(startMiB, 1)} → ${fmt(endMiB, 1)} MiB (${fmt(results.soak.changePercent, 1)}%), max ${fmt(maxMiB, 1)} MiB, ${fmt(result.rps)} req/s`);
  }

  results.ratios = evaluate(results);
  results.finishedAt = new Date().toISOString();
  results.loadAfter = loadavg()[0];

  if (flags.profile) {
    results.profiles = {};
    for (const file of readdirSync(OUT_DIR)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()) {
      const top = topSelfTime(JSON.parse(readFileSync(join(OUT_DIR, file), 'utf8')), { top: 15, callers: 1, depth: 6 });
      results.profiles[file] = top;
      log(`\nprofile ${join('bench/out', file)}\n${formatTop(top)}`);
    }
  }

  const md = markdown(results);
  // Only a full default run replaces the committed results; anything else lands in bench/out/.
  const [mdFile, jsonFile] = partial
    ? [join(OUT_DIR, 'RESULTS.partial.md'), join(OUT_DIR, 'results.partial.json')]
    : [join(BENCH_DIR, 'RESULTS.md'), join(BENCH_DIR, 'results.json')];
  writeFileSync(mdFile, md);
  writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write('\n' + md + '\n');
  log(`written: ${mdFile.replace(ROOT + '/', '')}, ${jsonFile.replace(ROOT + '/', '')}`);
}

/** `--report`: re-renders bench/RESULTS.md from bench/results.json (after a change to the report's layout). */
function rerender() {
  const results = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8'));
  Object.assign(settings, results.settings);
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), markdown(results));
  process.stdout.write(markdown(results) + '\n');
}

(flags.report ? Promise.resolve().then(rerender) : main())
  .then(() => rmSync(workDir, { recursive: true, force: true }))
  .catch((error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    killAll();
    process.exitCode = 1;
  })
  // The private redis-server would keep this process alive.
  .finally(() => privateRedis?.kill('SIGTERM'));
