import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, it } from 'vitest';
import { FAULT_ROWS, type Observed } from './rows.js';
import { OUT_DIR } from './out.js';

// `npm run faults`: every row of the matrix, then the table (test/reliability/out/faults.json, printed by run.mjs).
const results: (Observed & { id: string; group: string; fault: string; expected: string; passed: boolean; error?: string })[] = [];

describe('fault matrix (all rows)', () => {
  for (const row of FAULT_ROWS) {
    it(row.id, async () => {
      try {
        const observed = await row.run();
        results.push({ id: row.id, group: row.group, fault: row.fault, expected: row.expected, passed: true, ...observed });
      } catch (error) {
        results.push({
          id: row.id,
          group: row.group,
          fault: row.fault,
          expected: row.expected,
          passed: false,
          answer: 'FAILED',
          ms: NaN,
          error: String(error).slice(0, 500),
        });
        throw error;
      }
    });
  }
  afterAll(() => {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(`${OUT_DIR}/faults.json`, JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
  });
});
