import type { Config } from '../config/load.js';
import { describeStore, perProcessWarning } from '../config/store.js';
import { runPrimary } from '../platform/node/workers-cluster.js';
import { tryLines } from './try-lines.js';

/**
 * `flowgate serve --workers N` in the primary: prints the start line once every worker listens, and the
 * per-process warning when the store is memory, and the try lines. The workers run `serveCommand` like a single
 * process does, reloads (SIGHUP, passed on by the primary) included.
 */
export function serveWithWorkers(config: Config, workers: number, flagGiven: boolean): Promise<number> {
  // With the flag, the config's own warning (about server.workers) may not have been printed.
  const warning = perProcessWarning(config.store, workers);
  if (flagGiven && warning) process.stderr.write(`warning: --workers: ${warning}\n`);
  return runPrimary({
    workers,
    shutdownTimeoutMs: config.server.shutdownTimeout,
    write: (line) => process.stderr.write(line),
    onListening(url, where) {
      process.stderr.write(`flowgate listening on ${where} -> ${config.upstream.endpoint} (${workers} workers, store ${describeStore(config.store)})\n`);
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      for (const line of tryLines(config, url)) process.stderr.write(`try: ${line}\n`);
    },
  });
}
