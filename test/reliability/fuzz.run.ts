import { mkdirSync, writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { runFuzz } from './fuzz.js';
import { OUT_DIR } from './out.js';

// `npm run fuzz -- --runs N [--seed S]` (test/reliability/run.mjs passes them as FUZZ_RUNS and FUZZ_SEED).
it('fuzz', async () => {
  const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
  const seed = Number(process.env.FUZZ_SEED ?? 0);
  const report = await runFuzz({ runs, seed, progress: true });
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(`${OUT_DIR}/fuzz.json`, JSON.stringify({ at: new Date().toISOString(), failures: 0, ...report }, null, 2));
});
