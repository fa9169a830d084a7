// `npm run soak -- --minutes 10`: the built gateway (dist/, as `flowgate serve` runs it) in front of the bench
// stand-in upstream (bench/standin.mjs), first driven as hard as it goes to measure its capacity, then held at
// 80% of that capacity for the given minutes with a mixed workload. It prints one row per minute and fails
// (exit 1) when a minute has a gateway-caused 5xx or an unanswered request, when RSS after the warm-up (the
// first 2 minutes: JIT, heap sizing, the stores filling their budgets; each minute's RSS is the median of
// once-a-second readings) leaves ±10% of its level in the last warm-up minute, or when an accepted `mode: ack`
// run is lost.
//
// Usage: node test/reliability/soak.mjs [--minutes N] [--warmup-minutes N] [--capacity-seconds S] [--fraction F] [--connections C] [--out FILE] [--minute-seconds S]
//
// Mix (per 20 requests): 6 small Inputs, 2 Inputs of 32 KiB, 4 cached-flow requests (a few distinct bodies, so
// most are hits), 2 requests of a rate-limited caller (mostly 429), 2 signed GitHub webhook deliveries, 2
// Idempotency-Key requests (every other one a replay), 2 `mode: ack` requests. Loss accounting: every 202 is
// read back at GET /executions/{name} (again while `Running`) until its status is final; one that never is, or
// that is not found, is lost. The memory store's record budget is set to 2 MiB so that it fills, and is seen
// to hold, within the warm-up.
//
// Gauges come from the gateway process itself: RSS and open file descriptors from /proc/<pid>, event-loop delay
// from a perf_hooks histogram that test/reliability/loop-probe.mjs (loaded with --import) reports on SIGUSR2.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'capacity-seconds': { type: 'string', default: '30' },
    fraction: { type: 'string', default: '0.8' },
    connections: { type: 'string', default: '64' },
    'minute-seconds': { type: 'string', default: '60' },
    'warmup-minutes': { type: 'string', default: '2' },
    out: { type: 'string' },
  },
  strict: true,
});
const MINUTES = Number(flags.minutes);
const CAPACITY_SECONDS = Number(flags['capacity-seconds']);
const FRACTION = Number(flags.fraction);
const CONNECTIONS = Number(flags.connections);
for (const [name, value] of Object.entries({ minutes: MINUTES, 'capacity-seconds': CAPACITY_SECONDS, fraction: FRACTION, connections: CONNECTIONS })) {
  if (!(value > 0)) throw new Error(`--${name} must be a positive number`);
}
/** Only for a quick trial of the script itself (`--minute-seconds 10`): the published figures use 60. */
const MINUTE_MS = Number(flags['minute-seconds']) * 1000;
if (!(MINUTE_MS > 0)) throw new Error('--minute-seconds must be a positive number');

const KEYS = { soak: 'soak-caller-key-0123456789abcdef', limited: 'soak-limited-key-0123456789abcdef' };
const HOOK_SECRET = 'soak-github-hook-secret-0123456789';
/** Requests still unanswered after this are counted as unanswered (the stand-in answers at once). */
const CLIENT_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------- processes

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

/** Spawns a process and resolves with the first match of `pattern` on the stream `from`; rejects if it exits first. */
function startChild(args, pattern, { from = 'stdout', stdout = 'pipe' } = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', stdout, 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let seen = '';
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: from === 'stdout' ? child.stdout : child.stderr });
    const onLine = (line) => {
      seen = (seen + line + '\n').slice(-4000);
      const match = pattern.exec(line);
      if (!match) return;
      lines.off('line', onLine);
      resolve({ child, match, lines });
    };
    lines.on('line', onLine);
    if (from === 'stdout') child.stderr.on('data', (d) => (seen = (seen + d).slice(-4000)));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before ${pattern}:\n${seen}`)));
  });
}

function procStatusKiB(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}
const openFds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

// ---------------------------------------------------------------------------------------------- setup

const standin = await startChild(['bench/standin.mjs', '--port', '0'], /^listening (\d+)/);
const upstream = `http://127.0.0.1:${standin.match[1]}`;
const dir = mkdtempSync(join(tmpdir(), 'flowgate-soak-'));
const configFile = join(dir, 'flowgate.json');
writeFileSync(
  configFile,
  JSON.stringify({
    upstream: { endpoint: upstream, credentials: { accessKeyId: 'soak-id', accessKeySecret: 'soak-secret-0123456789' }, timeout: '10s' },
    server: { host: '127.0.0.1', accessLog: true },
    storeOptions: { recordsMaxSize: '2MiB' },
    callers: {
      soak: { apiKeys: [KEYS.soak], rateLimit: { rate: '1000000/s', burst: 1000000 } },
      limited: { apiKeys: [KEYS.limited], rateLimit: { rate: '5/s', burst: 10 } },
    },
    flows: {
      small: { flowName: 'bench_flow', access: 'authenticated' },
      cached: { flowName: 'bench_flow', access: 'authenticated', cache: { ttl: '20s' } },
      orders: { flowName: 'bench_flow', access: 'authenticated', idempotency: { ttl: '10m' } },
      hook: { flowName: 'bench_flow', webhook: { provider: 'github', secrets: [HOOK_SECRET] } },
      acked: { flowName: 'bench_flow', access: 'authenticated', mode: 'ack' },
    },
  }),
);
// stdout is the access log: discarded, as a log shipper would take it off the box.
const gateway = await startChild(
  ['--import', './test/reliability/loop-probe.mjs', 'dist/node.js', 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1'],
  /listening on (http:\/\/\S+)/,
  { from: 'stderr', stdout: 'ignore' },
);
const GATEWAY = gateway.match[1];
const PID = gateway.child.pid;
const probes = [];
const probeWaiters = [];
gateway.lines.on('line', (line) => {
  if (!line.startsWith('soak-probe ')) return;
  const probe = JSON.parse(line.slice('soak-probe '.length));
  probes.push(probe);
  probeWaiters.shift()?.(probe);
});
/** The event-loop delay since the last probe, from the gateway process. */
function probe() {
  const answer = new Promise((resolve) => probeWaiters.push(resolve));
  process.kill(PID, 'SIGUSR2');
  return answer;
}

const agent = new Agent({ connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000 });

// ---------------------------------------------------------------------------------------------- the mix

function jsonOfSize(bytes) {
  const head = JSON.stringify({ orderId: 'A-1001', pad: '' });
  return JSON.stringify({ orderId: 'A-1001', pad: 'x'.repeat(bytes - head.length) });
}
const SMALL = JSON.stringify({ orderId: 'A-1001', customer: { id: 'c-42' }, items: [{ sku: 'X1', qty: 2 }] });
const LARGE = jsonOfSize(32 * 1024);
const json = { 'content-type': 'application/json' };

let sequence = 0;
/** The requests of the mix, 20 per round, in a fixed interleaving. */
const MIX = [
  'small',
  'cached',
  'large',
  'small',
  'limited',
  'hook',
  'small',
  'idem',
  'cached',
  'ack',
  'small',
  'large',
  'cached',
  'small',
  'limited',
  'hook',
  'idem',
  'cached',
  'ack',
  'small',
];
let lastIdempotencyKey = '';

function nextRequest() {
  const kind = MIX[sequence++ % MIX.length];
  const n = sequence;
  switch (kind) {
    case 'small':
      return { kind, path: '/flows/small/run', headers: { ...json, 'x-api-key': KEYS.soak }, body: SMALL };
    case 'large':
      return { kind, path: '/flows/small/run', headers: { ...json, 'x-api-key': KEYS.soak }, body: LARGE };
    case 'cached':
      // 16 distinct bodies: after the first of each per TTL, hits.
      return { kind, path: '/flows/cached/run', headers: { ...json, 'x-api-key': KEYS.soak }, body: JSON.stringify({ q: n % 16 }) };
    case 'limited':
      return { kind, path: '/flows/small/run', headers: { ...json, 'x-api-key': KEYS.limited }, body: SMALL };
    case 'hook': {
      const body = JSON.stringify({ action: 'push', n, ref: 'refs/heads/main' });
      const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
      return {
        kind,
        path: '/flows/hook/run',
        headers: { ...json, 'x-hub-signature-256': signature, 'x-github-delivery': randomUUID(), 'x-github-event': 'push' },
        body,
      };
    }
    case 'idem': {
      // Every other one replays the previous key with the same body.
      const replay = n % 2 === 0 && lastIdempotencyKey;
      const key = replay ? lastIdempotencyKey : `"${randomUUID()}"`;
      lastIdempotencyKey = key;
      return { kind, path: '/flows/orders/run', headers: { ...json, 'x-api-key': KEYS.soak, 'idempotency-key': key }, body: JSON.stringify({ order: key }) };
    }
    case 'ack':
      return { kind, path: '/flows/acked/run', headers: { ...json, 'x-api-key': KEYS.soak }, body: JSON.stringify({ job: n }) };
  }
  throw new Error(kind);
}

/** Codes an upstream failure maps to: not counted as gateway-caused. The stand-in never fails, so none are expected. */
const UPSTREAM_CODES = new Set(['UpstreamError', 'GatewayTimeout', 'ExecutionTimedOut', 'ExecutionStopped']);
/** Per window: ack runs accepted (202) and how each ended when read back. */
async function readExecution(name) {
  const res = await request(`${GATEWAY}/executions/${encodeURIComponent(name)}`, { headers: { 'x-api-key': KEYS.soak }, dispatcher: agent });
  const text = await res.body.text();
  return res.statusCode === 200 ? JSON.parse(text).Status : `HTTP ${res.statusCode}`;
}
/** Reads an accepted run until its status is final: Running is read again (the stand-in answers at once). */
async function readUntilFinal(name) {
  let status = await readExecution(name);
  for (let i = 0; status === 'Running' && i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await readExecution(name);
  }
  return status;
}

async function send(req) {
  const started = performance.now();
  try {
    const res = await request(GATEWAY + req.path, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: agent,
      headersTimeout: CLIENT_TIMEOUT_MS,
      bodyTimeout: CLIENT_TIMEOUT_MS,
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    let code;
    if (res.statusCode >= 400 || req.kind === 'ack') {
      try {
        const parsed = JSON.parse(text);
        code = parsed.Code;
        if (req.kind === 'ack' && res.statusCode === 202)
          return { status: res.statusCode, code, ms: performance.now() - started, ackName: parsed.ExecutionName };
      } catch {
        code = 'not-json';
      }
    }
    return { status: res.statusCode, code, ms };
  } catch (error) {
    return { status: 0, code: error.code ?? error.name, ms: performance.now() - started };
  }
}

// ---------------------------------------------------------------------------------------------- stats

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function newWindow() {
  return { requests: 0, statuses: {}, gateway5xx: 0, upstream5xx: 0, unanswered: 0, latencies: [], errors: {}, acksAccepted: 0, ackOutcomes: {} };
}
function record(window, req, result) {
  window.requests++;
  window.statuses[result.status] = (window.statuses[result.status] ?? 0) + 1;
  if (result.status === 0) {
    window.unanswered++;
    window.errors[result.code] = (window.errors[result.code] ?? 0) + 1;
    return;
  }
  if (result.status >= 500) {
    if (UPSTREAM_CODES.has(result.code)) window.upstream5xx++;
    else window.gateway5xx++;
  }
  window.latencies.push(result.ms);
  if (result.ackName) {
    window.acksAccepted++;
    return readUntilFinal(result.ackName).then(
      (status) => (window.ackOutcomes[status] = (window.ackOutcomes[status] ?? 0) + 1),
      () => (window.ackOutcomes.unreadable = (window.ackOutcomes.unreadable ?? 0) + 1),
    );
  }
}
const lostOf = (window) => window.acksAccepted - ['Succeeded', 'Failed', 'Unknown'].reduce((sum, s) => sum + (window.ackOutcomes[s] ?? 0), 0);

// ---------------------------------------------------------------------------------------------- capacity

process.stderr.write(
  `soak: gateway ${GATEWAY} (pid ${PID}) -> stand-in ${upstream}; ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
process.stderr.write(`soak: measuring capacity for ${CAPACITY_SECONDS} s with ${CONNECTIONS} connections, closed loop (first 5 s warm-up)\n`);
async function measureCapacity() {
  const until = performance.now() + CAPACITY_SECONDS * 1000;
  const warmEnd = performance.now() + 5_000;
  const window = newWindow();
  const worker = async () => {
    while (performance.now() < until) {
      const req = nextRequest();
      const result = await send(req);
      if (performance.now() > warmEnd) await record(window, req, result);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return summarize(window, CAPACITY_SECONDS - 5);
}
const capacityFigures = await measureCapacity();
const capacityRps = capacityFigures.rps;
const TARGET_RPS = Math.max(1, Math.round(capacityRps * FRACTION));
process.stderr.write(`soak: capacity ${Math.round(capacityRps)} req/s; holding ${TARGET_RPS} req/s (${FRACTION * 100}%) for ${MINUTES} min\n`);
await probe(); // a fresh event-loop histogram for the first minute

function summarize(window, seconds) {
  const sorted = Float64Array.from(window.latencies).sort();
  return {
    requests: window.requests,
    rps: Math.round(window.requests / seconds),
    statuses: window.statuses,
    gateway5xx: window.gateway5xx,
    upstream5xx: window.upstream5xx,
    unanswered: window.unanswered,
    errors: window.errors,
    p50Ms: Math.round(percentile(sorted, 50) * 100) / 100,
    p99Ms: Math.round(percentile(sorted, 99) * 100) / 100,
    acksAccepted: window.acksAccepted,
    ackOutcomes: window.ackOutcomes,
    acksLost: lostOf(window),
  };
}

// ---------------------------------------------------------------------------------------------- the soak

const minutes = [];
let inFlight = 0;
let maxInFlight = 0;
const pendingAll = new Set();
{
  const started = performance.now();
  let issued = 0;
  for (let minute = 0; minute < MINUTES; minute++) {
    const window = newWindow();
    const minuteEnd = started + (minute + 1) * MINUTE_MS;
    const pending = new Set();
    // RSS is sampled about once a second and reported as the minute's median: a single reading lands on
    // whatever the GC happened to be doing at that instant.
    const rssSamples = [];
    let nextSample = 0;
    // Open loop: requests go out at the target rate whatever the answers do; the ticker only catches up.
    while (performance.now() < minuteEnd) {
      const due = Math.floor(((performance.now() - started) / 1000) * TARGET_RPS);
      while (issued < due) {
        issued++;
        const req = nextRequest();
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const done = send(req).then((result) => {
          inFlight--;
          return record(window, req, result);
        });
        pending.add(done);
        pendingAll.add(done);
        void done.then(() => (pending.delete(done), pendingAll.delete(done)));
      }
      if (performance.now() >= nextSample) {
        rssSamples.push(procStatusKiB(PID, 'VmRSS') / 1024);
        nextSample = performance.now() + 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Every request of this minute is counted in it, answered or not, once it settles (at most the client timeout).
    rssSamples.sort((a, b) => a - b);
    const round = (mib) => Math.round(mib * 10) / 10;
    const gauges = { rssMiB: round(percentile(rssSamples, 50)), rssMaxMiB: round(rssSamples.at(-1)), fds: openFds(PID), ...(await probe()) };
    await Promise.all(pending);
    const row = { minute: minute + 1, ...summarize(window, MINUTE_MS / 1000), ...gauges };
    minutes.push(row);
    process.stderr.write(
      `minute ${row.minute}: ${row.requests} requests (${row.rps}/s), gateway 5xx ${row.gateway5xx}, unanswered ${row.unanswered}, ` +
        `p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, RSS median ${row.rssMiB} MiB (max ${row.rssMaxMiB}), loop delay p99 ${row.eldP99Ms} ms, fds ${row.fds}\n`,
    );
  }
  await Promise.all(pendingAll);
}

// ---------------------------------------------------------------------------------------------- verdict

gateway.child.kill('SIGTERM');
const exitCode = await new Promise((resolve) => gateway.child.once('exit', (code) => resolve(code)));
standin.child.kill('SIGTERM');
await agent.close();
rmSync(dir, { recursive: true, force: true });

const WARMUP = Math.min(Number(flags['warmup-minutes']), Math.max(0, MINUTES - 1));
const warm = minutes.slice(WARMUP);
const reference = minutes[Math.max(0, WARMUP - 1)]?.rssMiB;
const rssDrift = warm.length ? Math.max(...warm.map((m) => Math.abs(m.rssMiB - reference) / reference)) : 0;
const accepted = minutes.reduce((sum, m) => sum + m.acksAccepted, 0);
const lost = minutes.reduce((sum, m) => sum + m.acksLost, 0);
const ackOutcomes = {};
for (const m of minutes) for (const [status, count] of Object.entries(m.ackOutcomes)) ackOutcomes[status] = (ackOutcomes[status] ?? 0) + count;
const failures = [];
if (minutes.some((m) => m.gateway5xx > 0)) failures.push('gateway-caused 5xx');
if (minutes.some((m) => m.unanswered > 0)) failures.push('unanswered requests');
if (rssDrift > 0.1) failures.push(`RSS moved ${(rssDrift * 100).toFixed(1)}% from its level at the end of the warm-up (minute ${WARMUP})`);
if (lost > 0) failures.push(`${lost} accepted ack runs not final`);
if (exitCode !== 0) failures.push(`gateway exit code ${exitCode} on SIGTERM`);

const report = {
  at: new Date().toISOString(),
  command: `npm run soak -- --minutes ${MINUTES}`,
  machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) },
  capacityRps: Math.round(capacityRps),
  capacity: capacityFigures,
  targetRps: TARGET_RPS,
  maxInFlight,
  minutes,
  warmupMinutes: WARMUP,
  rssDriftPercent: Math.round(rssDrift * 1000) / 10,
  acks: { accepted, outcomes: ackOutcomes, lost },
  gatewayExitCode: exitCode,
  failures,
};
mkdirSync(OUT_DIR, { recursive: true });
const outFile = flags.out ?? join(OUT_DIR, 'soak.json');
writeFileSync(outFile, JSON.stringify(report, null, 2));

const table = [
  '| minute | requests | gateway 5xx | unanswered | p50 ms | p99 ms | RSS MiB (median) | loop delay p99 ms | open fds | ack 202s | acks lost |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...minutes.map(
    (m) =>
      `| ${m.minute} | ${m.requests} | ${m.gateway5xx} | ${m.unanswered} | ${m.p50Ms} | ${m.p99Ms} | ${m.rssMiB} | ${m.eldP99Ms} | ${m.fds} | ${m.acksAccepted} | ${m.acksLost} |`,
  ),
];
process.stdout.write(`${table.join('\n')}\n\n`);
process.stdout.write(
  `capacity ${report.capacityRps} req/s, held ${TARGET_RPS} req/s; RSS drift ${report.rssDriftPercent}% after the warm-up (minute ${WARMUP}); ` +
    `ack runs: ${accepted} accepted, ${JSON.stringify(ackOutcomes)}, lost ${lost}; figures in ${outFile}\n`,
);
if (failures.length) {
  process.stdout.write(`FAILED: ${failures.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('passed\n');
