import { existsSync } from 'node:fs';
import type { Hono } from 'hono';
import { createApp } from '../app.js';
import { ConfigError } from '../config/load.js';
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

export const SERVE_USAGE = `Usage: flowgate serve [--config FILE] [--port N] [--host H]

Runs the gateway until SIGTERM or SIGINT, then drains the requests in flight. SIGHUP (or \`flowgate reload --pid N\`)
reads the config again. Without --config and without ./flowgate.yaml it runs the demo: the CloudFlow emulator with the
example flows, and the gateway in front of it on 127.0.0.1.

Options:
  -c, --config FILE   the config (YAML or JSON); default ./flowgate.yaml
  -p, --port N        the port; default server.port (8787)
      --host H        the address; default server.host (0.0.0.0), 127.0.0.1 for the demo
  -h, --help          print this help
`;

/** `flowgate serve`: the gateway on Node until SIGTERM or SIGINT, then a drain; the demo when there is no config. */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'serve',
    args,
    { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
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
  if (!values.config && !existsSync('flowgate.yaml')) {
    return (await import('./demo.js')).runDemo({ port, host: values.host });
  }
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  process.stderr.write(warningLines(config.warnings));
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
  process.stderr.write(`flowgate listening on ${where} -> ${config.upstream.endpoint} (credentials: ${describeCredentials(config.upstream.credentials)})\n`);
  if (metricsServer) process.stderr.write(`metrics on ${metricsServer.url}/metrics\n`);
  for (const line of tryLines(config, url)) process.stderr.write(`try: ${line}\n`);
  await stopped;
  stopReloads();
  process.stderr.write('flowgate: draining requests in flight\n');
  await Promise.all([started.shutdown(() => runtime.drain()), metricsServer?.close(config.server.shutdownTimeout)]);
  await runtime.close();
  return 0;
}

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
    process.stderr.write(`flowgate: reload of ${file} refused, the running config keeps serving: ${error.message}\n`);
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
  process.stderr.write(`flowgate: reloaded ${file}${restartNeeded.length ? ` (needs a restart to change: ${restartNeeded.join(', ')})` : ''}\n`);
  return runtime;
}
