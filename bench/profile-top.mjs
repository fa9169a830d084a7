// Prints the functions (or files, or packages) with the most self time in a V8 .cpuprofile, as
// written by `node --cpu-prof`. Idle time is left out of the percentages.
// Usage: node bench/profile-top.mjs FILE.cpuprofile [--top N] [--by function|file|package] [--callers N [--depth D]] [--json]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

function packageOf(url, functionName) {
  if (!url) return META.has(functionName) ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const path = shortUrl(url);
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match) return match[1];
  return path.split('/').slice(0, 2).join('/');
}

function frameName(callFrame) {
  const name = callFrame.functionName || '(anonymous)';
  return callFrame.url ? `${name} ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : name;
}

/**
 * Self time per key, in ms, sorted descending; `total` is the non-idle sampled time. With `callers`,
 * each row also lists its most expensive caller chains (up to `depth` frames), which is what says
 * *why* a runtime-internal function is hot.
 */
export function topSelfTime(profile, { by = 'function', top = 15, callers = 0, depth = 4 } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // A sample lasts until the next one (as DevTools counts it); the last gets the mean.
    const duration = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, duration));
  }
  const totals = new Map();
  const chains = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    total += us;
    let key;
    if (by === 'package') key = packageOf(callFrame.url, name);
    else if (by === 'file') key = callFrame.url ? shortUrl(callFrame.url) : name;
    else key = frameName(callFrame);
    totals.set(key, (totals.get(key) ?? 0) + us);
    if (callers) {
      const frames = [];
      for (let parent = parents.get(id); parent !== undefined && frames.length < depth; parent = parents.get(parent)) {
        const frame = nodes.get(parent).callFrame;
        if (frame.functionName === '(root)') break;
        frames.push(frameName(frame));
      }
      const perKey = chains.get(key) ?? new Map();
      const chain = frames.join(' < ') || '(top level)';
      perKey.set(chain, (perKey.get(chain) ?? 0) + us);
      chains.set(key, perKey);
    }
  }
  const rows = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const row = { key, selfMs: us / 1000, percent: total ? (100 * us) / total : 0 };
      if (callers) {
        row.callers = [...chains.get(key)]
          .sort((a, b) => b[1] - a[1])
          .slice(0, callers)
          .map(([chain, cus]) => ({ chain, selfMs: cus / 1000 }));
      }
      return row;
    });
  return { totalMs: total / 1000, rows };
}

export function formatTop({ totalMs, rows }) {
  const lines = [`non-idle sampled time ${totalMs.toFixed(0)} ms`, '  self ms   self %  where'];
  for (const row of rows) {
    lines.push(`${row.selfMs.toFixed(1).padStart(9)} ${row.percent.toFixed(1).padStart(7)}%  ${row.key}`);
    for (const caller of row.callers ?? []) lines.push(`${''.padStart(18)}  ${caller.selfMs.toFixed(1).padStart(7)} ms via ${caller.chain}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '15' },
      by: { type: 'string', default: 'function' },
      callers: { type: 'string', default: '0' },
      depth: { type: 'string', default: '4' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0 || !['function', 'file', 'package'].includes(values.by)) {
    process.stderr.write('usage: node bench/profile-top.mjs FILE.cpuprofile [--top N] [--by function|file|package] [--callers N [--depth D]] [--json]\n');
    process.exit(2);
  }
  for (const file of positionals) {
    const result = topSelfTime(JSON.parse(readFileSync(file, 'utf8')), {
      by: values.by,
      top: Number(values.top),
      callers: Number(values.callers),
      depth: Number(values.depth),
    });
    process.stdout.write(values.json ? JSON.stringify({ file, ...result }) + '\n' : `${file}\n${formatTop(result)}\n\n`);
  }
}
