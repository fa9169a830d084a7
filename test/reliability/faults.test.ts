import { describe, it } from 'vitest';
import { FAULT_ROWS } from './rows.js';

// The fast rows of the fault matrix (`npm run faults` runs every row and prints the table).
describe('fault matrix', () => {
  for (const row of FAULT_ROWS.filter((r) => r.fast)) {
    it(`${row.id}: ${row.fault} → ${row.expected}`, async () => {
      await row.run();
    });
  }
});
