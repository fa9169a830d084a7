import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

// The reliability runs (`npm run faults`, `npm run fuzz`): the suite's setup (its own Redis, the build service), their own files, no time limit per test.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/reliability/*.run.ts'],
      testTimeout: 600_000,
      hookTimeout: 120_000,
      maxWorkers: 1,
    },
  }),
);
