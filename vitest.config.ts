import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Files run in parallel worker processes; tests start servers on ephemeral ports and share the suite's own Redis.
    pool: 'forks',
    // Vitest's default leaves a core free, which on a 2-core machine means one file at a time; many files
    // here wait on sockets, child processes and workerd, so every core gets a worker.
    maxWorkers: Math.max(2, availableParallelism()),
    // A worker keeps its module graph from one file to the next instead of importing src/ and the
    // libraries afresh per file (most of the import time). Nothing in src/ keeps module-level state
    // that a test changes; spies are restored after each test so none outlives its file.
    isolate: false,
    restoreMocks: true,
    // The official Node credentials library calls STS over HTTPS only: the tests serve the emulator's STS with a
    // certificate of a test-only authority (test/fixtures/tls/), which the worker processes trust from their start.
    env: { NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('./test/fixtures/tls/ca.pem', import.meta.url)) },
  },
});
