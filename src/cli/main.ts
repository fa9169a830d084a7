#!/usr/bin/env node
import { readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { ConfigError, parseConfigText, type Config } from '../config/load.js';
import { createNodeRuntime } from '../platform/node/runtime.js';
import { startServer } from '../platform/node/server.js';
import { nextSignal } from '../platform/node/emulator.js';
import { describeClientAddress } from '../lib/client-address.js';

const USAGE = `flowgate: a REST gateway for Alibaba Cloud CloudFlow Express workflows

Usage:
  flowgate serve    [--config FILE] [--port N] [--host H]   run the gateway (demo mode, on 127.0.0.1, without a config)
  flowgate check    [--config FILE]                         validate a config and print its routes
  flowgate emulator [--port N] [--host H] [--flows DIR] [--handlers FILE] [--access-key ID:SECRET]
                    [--sts-token ID:TOKEN] [--latency MS] [--throttle N] [--failure-rate P] [--time-scale F]
                                                            run the CloudFlow emulator alone
`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'emulator':
      return (await import('../platform/node/emulator.js')).emulatorCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`flowgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`(file): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseConfigText(text, process.env);
}

/** The config, or exit code 2 after saying which key paths are wrong. */
function loadConfigOrExit(file: string): Config | number {
  try {
    return loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flowgate: ${file}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  const clientAddress = describeClientAddress({ trustProxy: config.server.trustProxy, forwardedHeader: config.server.forwardedHeader, ipv6Prefix: config.anonymous.ipv6Prefix });
  process.stdout.write(`${file}: valid\nupstream: ${config.upstream.endpoint} (signature ${config.upstream.signatureVersion}, store ${config.store})\nclient address: ${clientAddress}\nroutes:\n`);
  for (const flow of Object.values(config.flows)) {
    const access = Array.isArray(flow.access) ? flow.access.join(',') : flow.access;
    const extras = [flow.mode === 'ack' ? 'ack' : '', flow.cache ? `cache ${flow.cache.ttl}ms/${flow.cache.scope}` : '', flow.webhook ? `webhook ${flow.webhook.provider}` : '']
      .filter(Boolean)
      .join(', ');
    process.stdout.write(`  POST /flows/${flow.name}/run -> ${flow.flowName}${flow.qualifier ? `@${flow.qualifier}` : ''} [access ${access}]${extras ? ` (${extras})` : ''}\n`);
  }
  process.stdout.write('  GET  /flows\n  GET  /healthz\n  GET  /readyz\n  GET  /openapi.json\n');
  return 0;
}

async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
    strict: true,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`flowgate: --port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  if (!values.config && !existsSync('flowgate.yaml')) {
    return (await import('./demo.js')).runDemo({ port, host: values.host });
  }
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  const runtime = createNodeRuntime(config);
  const app = createApp(runtime.deps);
  const started = await startServer(app, config, { port, host: values.host });
  const shown = started.host === '0.0.0.0' || started.host === '::' ? '127.0.0.1' : started.host;
  const first = Object.values(config.flows)[0];
  process.stderr.write(`flowgate listening on http://${shown}:${started.port} -> ${config.upstream.endpoint}\n`);
  if (first) process.stderr.write(`try: curl -s -X POST http://${shown}:${started.port}/flows/${first.name}/run -H 'content-type: application/json' -d '{}'\n`);
  await nextSignal();
  process.stderr.write('flowgate: draining requests in flight\n');
  await started.shutdown(() => runtime.drain());
  await runtime.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flowgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
