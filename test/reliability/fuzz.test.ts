import { expect, it } from 'vitest';
import { runFuzz } from './fuzz.js';

// A fixed-seed sample of the fuzz run (`npm run fuzz -- --runs 100000` runs the full one with a fresh seed).
it('2,000 hostile requests: no unmapped 5xx, no crash, no secret out, every error in the envelope, heap bounded', { timeout: 300_000 }, async () => {
  const report = await runFuzz({ runs: 2_000, seed: 19_2026, checkEvery: 500 });
  expect(report.runs).toBe(2_000);
  // The sample reaches the upstream and the error paths both, or it proves little.
  expect(report.upstreamCalls).toBeGreaterThan(50);
  expect(Object.keys(report.statuses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '404', '413', '415', '502']));
});
