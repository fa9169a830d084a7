import { existsSync } from 'node:fs';
import type { Hono } from 'hono';
import { createApp } from '../app.js';
import { ConfigError, METRICS_PORT_WITH_WORKERS } from '../config/load.js';
import { describeCredentials } from '../config/credentials.js';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../platform/node/config-file.js';
import { listen } from '../platform/node/http-server.js';
import { listenAddress } from '../platform/node/listen-address.js';
import { createNodeRuntime, type NodeRuntime } from '../platform/node/runtime.js';
import { startServer } from '../platform/node/server.js';
import { metricsOnly } from '../routes/metrics.js';
import { parseCommandArgs, portFlag, usageError, UsageError } from './args.js';
import { loadConfigOrExit, warningLines } from './config-file.js';
import { nextSignal, onReloadSignal } from './signals.js';
import { tryLines } from './try-lines.js';
import { isClusterWorker, keepWorkerAliveOnSignals, reportListening, resolveWorkers } from '../platform/node/workers-cluster.js';

export const SERVE_USAGE = `Usage: flowgate serve [--config FILE] [--port N] [--host H] [--workers N|auto]

Runs the gateway until SIGTERM or SIGINT, then drains the requests in flight. SIGHUP (or \`flowgate reload --pid N\`)
reads the config again. Without --config and without ./flowgate.yaml it runs the demo: the CloudFlow emulator with the
example flows, and the gateway in front of it on 127.0.0.1. With more than one worker, the process started is the
primary: it serves nothing itself, passes SIGHUP, SIGTERM and SIGINT to every worker, and replaces one that exits.

Options:
  -c, --config FILE   the config (YAML or JSON); default ./flowgate.yaml
  -p, --port N        the port; default server.port (8787)
      --host H        the address; default server.host (0.0.0.0), 127.0.0.1 for the demo
  -w, --workers N     processes sharing the port (1 to 256), or auto for one per core; default server.workers (1);
                      needs a config. Use a Redis store: a memory store is per process
  -h, --help          print this help
`;

/** `flowgate serve`: the gateway on Node until SIGTERM or SIGINT, then a drain; the demo when there is no config. */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'serve',
    args,
    {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
    SERVE_USAGE,
  );
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  let port: number | undefined;
  try {
    port = portFlag('port', values.port);
  } catch (error) {
    if (error instanceof UsageError) return usageError('serve', error.message, SERVE_USAGE);
    throw error;
  }
  const flagged = values.workers === undefined ? undefined : resolveWorkers(values.workers, 1);
  if (typeof flagged === 'object') return usageError('serve', flagged.error, SERVE_USAGE);
  if (!values.config && !existsSync('flowgate.yaml')) {
    if (flagged !== undefined)
      return usageError('serve', '--workers needs a config (--config FILE or ./flowgate.yaml); the demo runs one process', SERVE_USAGE);
    return (await import('./demo.js')).runDemo({ port, host: values.host });
  }
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  // --workers N / server.workers: the primary forks N copies of this command and serves nothing itself.
  const workers = flagged ?? resolveWorkers(undefined, config.server.workers);
  if (typeof workers === 'object') return usageError('serve', workers.error, SERVE_USAGE);
  if (workers > 1 && config.server.metrics.port !== undefined) {
    // The config alone is refused at load (server.workers); this is --workers over a config with a metrics port.
    process.stderr.write(`flowgate serve: --workers ${values.workers} with server.metrics.port: ${METRICS_PORT_WITH_WORKERS}\n`);
    return 2;
  }
  if (workers > 1 && !isClusterWorker()) {
    process.stderr.write(warningLines(config.warnings));
    return (await import('./serve-workers.js')).serveWithWorkers(config, workers, values.workers !== undefined);
  }
  if (isClusterWorker()) keepWorkerAliveOnSignals();
  else process.stderr.write(warningLines(config.warnings));
  // Listening for SIGTERM before the start line is printed: whatever acts on that line (a supervisor, a
  // test) may stop the process at once, and a signal with no handler yet would kill it without a drain.
  const stopped = nextSignal();
  let runtime = createNodeRuntime(config);
  // Fetched now rather than by the first request (which would wait for it); the outcome is logged either way.
  runtime.deps.defer(runtime.deps.credentials.check());
  let app: Hono<AppEnv> = createApp(runtime.deps);
  // Each request takes the app current when it arrives, and keeps it to the end: a reload never touches one in flight.
  const gateway = { fetch: (...request: Parameters<Hono<AppEnv>['fetch']>) => app.fetch(...request) };
  const started = await startServer(gateway, config, { port, host: values.host });
  const metricsPort = config.server.metrics.port;
  const metricsServer =
    metricsPort === undefined ? undefined : await listen(metricsOnly(runtime), { port: metricsPort, host: config.server.metrics.host ?? started.host });
  const stopReloads = onReloadSignal(() => {
    try {
      const outcome = reload(file, runtime);
      if (!outcome) return;
      const next = createApp(outcome.deps);
      runtime = outcome;
      app = next;
      runtime.deps.defer(runtime.deps.credentials.check());
    } catch (error) {
      // A signal handler that throws would end the process: the running config keeps serving instead.
      runtime.deps.log({
        level: 'error',
        msg: 'config reload failed; the running config keeps serving',
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  });
  const { url, where } = listenAddress(started.host, started.port);
  // A worker tells the primary, which prints one start line for all of them, and the try lines.
  if (!reportListening(url, where)) {
    process.stderr.write(`flowgate listening on ${where} -> ${config.upstream.endpoint} (credentials: ${describeCredentials(config.upstream.credentials)})\n`);
    if (metricsServer) process.stderr.write(`metrics on ${metricsServer.url}/metrics\n`);
    for (const line of tryLines(config, url)) process.stderr.write(`try: ${line}\n`);
  }
  await stopped;
  stopReloads();
  process.stderr.write('flowgate: draining requests in flight\n');
  await Promise.all([started.shutdown(() => runtime.drain()), metricsServer?.close(config.server.shutdownTimeout)]);
  await runtime.close();
  return 0;
}

/** Who a line is from: each worker of `--workers` reloads on its own, so its lines name it. */
const speaker = () => (isClusterWorker() ? `flowgate: worker pid ${process.pid}` : 'flowgate');

/**
 * Reads `file` again: the next runtime (sharing the current one's state), or undefined when the config is
 * invalid, which is logged with its key paths while the current one keeps serving.
 */
function reload(file: string, current: NodeRuntime): NodeRuntime | undefined {
  const log = current.deps.log;
  let next;
  try {
    next = loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log({ level: 'error', msg: 'config reload refused; the running config keeps serving', file, issues: error.issues });
    process.stderr.write(`${speaker()}: reload of ${file} refused, the running config keeps serving: ${error.message}\n`);
    return undefined;
  }
  const { runtime, restartNeeded } = current.reload(next);
  log({
    level: restartNeeded.length ? 'warn' : 'info',
    msg: 'config reloaded',
    file,
    flows: Object.keys(next.flows).length,
    ...(next.warnings.length ? { warnings: next.warnings } : {}),
    ...(restartNeeded.length ? { restartNeeded, detail: 'these keys keep their running values until a restart' } : {}),
  });
  process.stderr.write(`${speaker()}: reloaded ${file}${restartNeeded.length ? ` (needs a restart to change: ${restartNeeded.join(', ')})` : ''}\n`);
  return runtime;
}
