/**
 * Demo mode (`flowgate serve` with no config and no ./flowgate.yaml): the embedded CloudFlow emulator with the
 * example flows and handlers, and the gateway in front of it with examples/flowgate.yaml. Paths are resolved from
 * the package root, so it works from any working directory.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { createApp } from '../app.js';
import { parseConfig, type Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { createNodeRuntime } from '../platform/node/runtime.js';
import { DEFAULT_EMULATOR_PORT, DEFAULT_KEY, loadFlowsFolder, loadHandlers, startEmulator, type RunningEmulator } from '../platform/node/emulator.js';
import { startServer } from '../platform/node/server.js';
import { listenAddress } from '../platform/node/listen-address.js';
import { nextSignal, onReloadSignal } from './signals.js';

import { PACKAGE_ROOT } from './package-info.js';

export { PACKAGE_ROOT };

/**
 * Where the demo listens unless `--host` says otherwise: loopback only, because the emulator's test key and
 * the demo's open flows are public knowledge, so anyone who can reach the port can run them.
 */
export const DEMO_HOST = '127.0.0.1';

export interface DemoOptions {
  /** Gateway port; default the config's 8787. */
  port?: number | undefined;
  /** Gateway address; default `DEMO_HOST`. `0.0.0.0` opens it to the network on purpose. */
  host?: string | undefined;
  /** Emulator port; default 9400, or a free port when 9400 is taken. */
  emulatorPort?: number | undefined;
  /** Gateway log; default JSON lines on stdout. */
  log?: Logger | undefined;
}

export interface RunningDemo {
  /** A URL of the gateway that works from this machine. */
  gatewayUrl: string;
  /** Where the gateway listens, for the banner (see listenAddress). */
  gatewayWhere: string;
  emulator: RunningEmulator;
  config: Config;
  /** Drains the gateway's requests in flight, then stops the emulator. */
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const emulatorOptions = {
    flows: loadFlowsFolder(`${PACKAGE_ROOT}examples/flows`),
    handlers: await loadHandlers(`${PACKAGE_ROOT}examples/handlers/index.mjs`),
    accessKeys: [DEFAULT_KEY],
    fetch: globalThis.fetch,
  };
  const emulator = await startEmulator({ ...emulatorOptions, port: options.emulatorPort ?? DEFAULT_EMULATOR_PORT }).catch((error: NodeJS.ErrnoException) => {
    // The fixed port is a convenience; a busy one is no reason to fail the demo.
    if (options.emulatorPort === undefined && error.code === 'EADDRINUSE') return startEmulator({ ...emulatorOptions, port: 0 });
    throw error;
  });
  try {
    const raw = parseYaml(readFileSync(`${PACKAGE_ROOT}examples/flowgate.yaml`, 'utf8')) as { upstream: Record<string, unknown> };
    raw.upstream = { ...raw.upstream, endpoint: emulator.url };
    const config = parseConfig(raw, {});
    const runtime = createNodeRuntime(config, options.log ? { log: options.log } : {});
    const server = await startServer(createApp(runtime.deps), config, { port: options.port, host: options.host ?? DEMO_HOST });
    const { url, where } = listenAddress(server.host, server.port);
    return {
      gatewayUrl: url,
      gatewayWhere: where,
      emulator,
      config,
      async close() {
        await server.shutdown(() => runtime.drain());
        await runtime.close();
        await emulator.close();
      },
    };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}

/** The curl line the demo prints; docs/emulator.md lists the others. */
export function demoCurl(gatewayUrl: string): string {
  return `curl -s -X POST ${gatewayUrl}/flows/hello/run -H 'content-type: application/json' -d '{"name":"ada"}'`;
}

export async function runDemo(options: { port?: number | undefined; host?: string | undefined }, signal: Promise<unknown> = nextSignal()): Promise<number> {
  const demo = await startDemo(options);
  const flows = demo.emulator.emulator.store.list().map((f) => f.name);
  process.stderr.write(
    `flowgate demo (no ./flowgate.yaml and no --config)\n` +
      `CloudFlow emulator on ${demo.emulator.url} with ${flows.join(', ')} (key ${DEFAULT_KEY.accessKeyId} / ${DEFAULT_KEY.accessKeySecret})\n` +
      `flowgate listening on ${demo.gatewayWhere} -> ${demo.emulator.url} (config examples/flowgate.yaml)\n` +
      (options.host === undefined ? `reachable from this machine only, since the demo runs on public test keys (--host 0.0.0.0 opens it up)\n` : '') +
      `try: ${demoCurl(demo.gatewayUrl)}\n` +
      `more example calls: docs/emulator.md#the-demo\n`,
  );
  const stopReloads = onReloadSignal(() => process.stderr.write('flowgate: the demo has no config file to read again (SIGHUP ignored)\n'));
  await signal;
  stopReloads();
  process.stderr.write('flowgate: draining requests in flight\n');
  await demo.close();
  return 0;
}
