import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { createNodeRuntime } from '../platform/node/runtime.js';
import { startServer } from '../platform/node/server.js';
import { loadConfigOrExit, warningLines } from './config-file.js';
import { listenAddress } from '../platform/node/listen-address.js';
import { nextSignal } from './signals.js';
import { describeCredentials } from '../config/credentials.js';
import { isClusterWorker, keepWorkerAliveOnSignals, reportListening, resolveWorkers } from '../platform/node/workers-cluster.js';

/** `flowgate serve`: the gateway on Node until SIGTERM or SIGINT, then a drain; the demo when there is no config. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
    strict: true,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`flowgate: --port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  if (!values.config && !existsSync('flowgate.yaml')) {
    if (values.workers !== undefined) {
      process.stderr.write('flowgate: --workers needs a config (--config FILE or ./flowgate.yaml); the demo runs one process\n');
      return 2;
    }
    return (await import('./demo.js')).runDemo({ port, host: values.host });
  }
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  // --workers N / server.workers: the primary forks N copies of this command and serves nothing itself.
  const workers = resolveWorkers(values.workers, config.server.workers);
  if (typeof workers === 'object') {
    process.stderr.write(`flowgate: ${workers.error}\n`);
    return 2;
  }
  if (workers > 1 && !isClusterWorker()) {
    process.stderr.write(warningLines(config.warnings));
    return (await import('./serve-workers.js')).serveWithWorkers(config, workers, values.workers !== undefined);
  }
  if (isClusterWorker()) keepWorkerAliveOnSignals((line) => process.stderr.write(line));
  else process.stderr.write(warningLines(config.warnings));
  // Listening for SIGTERM before the start line is printed: whatever acts on that line (a supervisor, a
  // test) may stop the process at once, and a signal with no handler yet would kill it without a drain.
  const stopped = nextSignal();
  const runtime = createNodeRuntime(config);
  // Fetched now rather than by the first request (which would wait for it); the outcome is logged either way.
  runtime.deps.defer(runtime.deps.credentials.check());
  const app = createApp(runtime.deps);
  const started = await startServer(app, config, { port, host: values.host });
  const { url, where } = listenAddress(started.host, started.port);
  const first = Object.values(config.flows)[0];
  // A worker tells the primary, which prints one start line for all of them.
  if (!reportListening(url, where)) {
    process.stderr.write(`flowgate listening on ${where} -> ${config.upstream.endpoint} (credentials: ${describeCredentials(config.upstream.credentials)})\n`);
    if (first) process.stderr.write(`try: curl -s -X POST ${url}/flows/${first.name}/run -H 'content-type: application/json' -d '{}'\n`);
  }
  await stopped;
  process.stderr.write('flowgate: draining requests in flight\n');
  await started.shutdown(() => runtime.drain());
  await runtime.close();
  return 0;
}
