// The reliability runs as npm scripts:
//   npm run faults                               every row of the fault matrix, then its table
//   npm run fuzz -- --runs 100000 [--seed N]     hostile inputs against the in-process gateway (fast-check)
//   npm run soak -- --minutes 10                 see test/reliability/soak.mjs
// faults and fuzz run under vitest (test/reliability/vitest.config.ts: the suite's own Redis and build service).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const [what, ...rest] = process.argv.slice(2);
const root = fileURLToPath(new URL('../../', import.meta.url));
const out = fileURLToPath(new URL('./out/', import.meta.url));

function vitest(file, env) {
  const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/reliability/vitest.config.ts', file], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return result.status ?? 1;
}

if (what === 'faults') {
  parseArgs({ args: rest, options: {}, strict: true });
  const status = vitest('test/reliability/faults.run.ts', {});
  if (existsSync(`${out}faults.json`)) {
    const { results } = JSON.parse(readFileSync(`${out}faults.json`, 'utf8'));
    const lines = ['| # | fault | expected answer | observed answer | time to answer |', '|---|---|---|---|---|'];
    results.forEach((r, i) =>
      lines.push(
        `| ${i + 1} | **${r.group}**: ${r.fault} | ${r.expected} | ${r.passed ? '' : '**FAILED** '}${r.answer} | ${Number.isFinite(r.ms) ? `${Math.round(r.ms)} ms` : '–'} |`,
      ),
    );
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
  process.exit(status);
} else if (what === 'fuzz') {
  const { values } = parseArgs({ args: rest, options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' } }, strict: true });
  if (!(Number(values.runs) > 0)) throw new Error(`--runs must be a positive number, got "${values.runs}"`);
  const seed = values.seed ?? String((Math.random() * 2 ** 31) | 0);
  process.stdout.write(`fuzz: ${values.runs} runs, seed ${seed} (rerun: npm run fuzz -- --runs ${values.runs} --seed ${seed})\n`);
  const status = vitest('test/reliability/fuzz.run.ts', { FUZZ_RUNS: values.runs, FUZZ_SEED: seed });
  if (existsSync(`${out}fuzz.json`)) process.stdout.write(`${readFileSync(`${out}fuzz.json`, 'utf8')}\n`);
  process.exit(status);
} else {
  process.stderr.write('usage: node test/reliability/run.mjs faults | fuzz [--runs N] [--seed N]\n');
  process.exit(2);
}
