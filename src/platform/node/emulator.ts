/**
 * The emulator on Node: loads a flows folder and a handlers module from disk, serves `createEmulator()` over
 * HTTP, and implements `flowgate emulator`. Everything file-system related lives here so `src/emulator` stays
 * Web-standard.
 */
import { serve } from '@hono/node-server';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { createEmulator, DEFAULT_KEY, type AccessKey, type CallLogLine, type Emulator, type EmulatorOptions, type FlowSource } from '../../emulator/index.js';
import type { TaskHandler, TaskHandlers } from '../../emulator/engine/index.js';

export const DEFAULT_EMULATOR_PORT = 9400;
const FLOW_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const ALIASES_FILE = /^aliases\.(ya?ml|json)$/;

/**
 * Every `*.yaml`, `*.yml` and `*.json` file of `dir` is one flow, named after the file (a `Name` inside must agree).
 * An optional `aliases.yaml` maps flow → alias → version: `{ hello: { prod: 1 } }`.
 */
export function loadFlowsFolder(dir: string): FlowSource[] {
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`flows folder ${dir} does not exist or is not a folder`);
  const files = readdirSync(folder).sort();
  const aliasFile = files.find((f) => ALIASES_FILE.test(f));
  const aliases = aliasFile ? readAliases(join(folder, aliasFile)) : {};
  const sources: FlowSource[] = [];
  for (const file of files) {
    if (ALIASES_FILE.test(file) || !FLOW_EXTENSIONS.has(extname(file))) continue;
    const name = basename(file, extname(file));
    sources.push({ name, definition: readFileSync(join(folder, file), 'utf8'), aliases: aliases[name], origin: join(dir, file) });
  }
  for (const flow of Object.keys(aliases)) {
    if (!sources.some((s) => s.name === flow)) throw new Error(`${aliasFile}: flow "${flow}" has no file in ${dir}`);
  }
  return sources;
}

function readAliases(file: string): Record<string, Record<string, number>> {
  const doc: unknown = parseYaml(readFileSync(file, 'utf8')) ?? {};
  const bad = () => new Error(`${file}: expected a map of flow name → { alias: version number }`);
  if (typeof doc !== 'object' || Array.isArray(doc)) throw bad();
  for (const map of Object.values(doc as Record<string, unknown>)) {
    if (typeof map !== 'object' || map === null || Array.isArray(map) || !Object.values(map).every((v) => Number.isInteger(v))) throw bad();
  }
  return doc as Record<string, Record<string, number>>;
}

/** The functions a module exports (named exports, or the members of a default-exported object) become handlers. */
export async function loadHandlers(file: string): Promise<TaskHandlers> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`handlers module ${file} does not exist`);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const handlers: Record<string, TaskHandler> = {};
  const fromDefault = typeof mod.default === 'object' && mod.default !== null ? (mod.default as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries({ ...fromDefault, ...mod })) {
    if (typeof value === 'function' && name !== 'default') handlers[name] = value as TaskHandler;
  }
  return handlers;
}

/** `ID:SECRET` → a key. */
export function parseAccessKey(text: string): AccessKey {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw new Error(`--access-key must be ID:SECRET, got "${text.slice(0, colon > 0 ? colon : 20)}…"`);
  return { accessKeyId: text.slice(0, colon), accessKeySecret: text.slice(colon + 1) };
}

export interface RunningEmulator {
  url: string;
  port: number;
  host: string;
  emulator: Emulator;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export interface StartEmulatorOptions extends EmulatorOptions {
  /** Default 9400; 0 picks a free port. */
  port?: number | undefined;
  /** Default 127.0.0.1: the emulator accepts test keys and should not face a network. */
  host?: string | undefined;
}

export function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const { port = DEFAULT_EMULATOR_PORT, host = '127.0.0.1', ...emulatorOptions } = options;
  const emulator = createEmulator(emulatorOptions);
  const inFlight = new Set<ServerResponse>();
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: emulator.app.fetch, port, hostname: host }, (info: AddressInfo) => {
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      resolvePromise({
        url: `http://${shown}:${info.port}`,
        port: info.port,
        host,
        emulator,
        close: (graceMs = 10_000) => closeServer(server, inFlight, graceMs),
      });
    }) as Server;
    server.once('error', reject);
    server.on('request', (_req, res: ServerResponse) => {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    });
    // Express executions may run 5 minutes: no idle cut-off while a call awaits its answer.
    server.requestTimeout = 0;
    server.setTimeout(0);
  });
}

async function closeServer(server: Server, inFlight: Set<ServerResponse>, graceMs: number): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  for (const res of inFlight) res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), graceMs);
  });
  const outcome = await Promise.race([closed, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    server.closeAllConnections();
    await closed;
  }
}

const USAGE = `Usage: flowgate emulator [--port N] [--host H] [--flows DIR] [--handlers FILE]
                         [--access-key ID:SECRET]... [--sts-token ID:TOKEN]...
                         [--latency MS] [--throttle N] [--failure-rate P] [--time-scale F]
`;

function numberFlag(name: string, value: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !check(n)) throw new Error(`--${name} must be ${expected}, got "${value}"`);
  return n;
}

/** Turns `flowgate emulator` flags into options; throws an Error with a message for the user. */
export async function emulatorOptionsFromArgs(args: string[]): Promise<StartEmulatorOptions> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      flows: { type: 'string' },
      handlers: { type: 'string' },
      'access-key': { type: 'string', multiple: true },
      'sts-token': { type: 'string', multiple: true },
      latency: { type: 'string' },
      throttle: { type: 'string' },
      'failure-rate': { type: 'string' },
      'time-scale': { type: 'string' },
    },
  });
  const keys = (values['access-key'] ?? []).map(parseAccessKey);
  if (keys.length === 0) keys.push({ ...DEFAULT_KEY });
  for (const entry of values['sts-token'] ?? []) {
    const colon = entry.indexOf(':');
    const key = keys.find((k) => k.accessKeyId === entry.slice(0, colon));
    if (colon <= 0 || colon === entry.length - 1 || !key) throw new Error(`--sts-token must be ID:TOKEN for a key given with --access-key`);
    key.securityTokens = [...(key.securityTokens ?? []), entry.slice(colon + 1)];
  }
  const timeScale = numberFlag('time-scale', values['time-scale'], (n) => Number.isFinite(n) && n > 0, 'a number > 0');
  return {
    port: numberFlag('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number') ?? DEFAULT_EMULATOR_PORT,
    host: values.host,
    keys,
    flows: values.flows ? loadFlowsFolder(values.flows) : [],
    handlers: values.handlers ? await loadHandlers(values.handlers) : {},
    fetch: globalThis.fetch,
    ...(timeScale !== undefined ? { timeScale } : {}),
    faults: {
      latencyMs: numberFlag('latency', values.latency, (n) => Number.isFinite(n) && n >= 0, 'milliseconds ≥ 0'),
      throttle: numberFlag('throttle', values.throttle, (n) => Number.isFinite(n) && n > 0, 'requests per second > 0'),
      failureRate: numberFlag('failure-rate', values['failure-rate'], (n) => Number.isFinite(n) && n >= 0 && n <= 1, 'a number from 0 to 1'),
    },
  };
}

export const stdoutCallLog = (line: CallLogLine): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), msg: 'emulator call', ...line }) + '\n');
};

/** `flowgate emulator`: runs until SIGTERM or SIGINT. Exit code 2 for bad flags, flows or handlers. */
export async function emulatorCommand(args: string[], signal: Promise<unknown> = nextSignal()): Promise<number> {
  let options: StartEmulatorOptions;
  let running: RunningEmulator;
  try {
    options = await emulatorOptionsFromArgs(args);
    running = await startEmulator({ ...options, log: stdoutCallLog });
  } catch (error) {
    process.stderr.write(`flowgate emulator: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const flows = running.emulator.store.list().map((f) => f.name);
  process.stderr.write(`CloudFlow emulator listening on ${running.url} (Version 2019-03-15, ${flows.length} flow${flows.length === 1 ? '' : 's'}${flows.length ? `: ${flows.join(', ')}` : ''})\n`);
  for (const key of running.emulator.keys) {
    // The built-in test key is public; a key the user chose is shown by id only.
    const secret = key.accessKeyId === DEFAULT_KEY.accessKeyId && key.accessKeySecret === DEFAULT_KEY.accessKeySecret ? ` secret ${DEFAULT_KEY.accessKeySecret}` : ' (secret as given)';
    process.stderr.write(`access key: ${key.accessKeyId}${secret}${key.securityTokens?.length ? ' (STS token required)' : ''}\n`);
  }
  process.stderr.write(`gateway config: upstream: { endpoint: ${running.url}, credentials: { accessKeyId: ..., accessKeySecret: ... } }\n`);
  await signal;
  process.stderr.write('flowgate emulator: stopping\n');
  await running.close();
  return 0;
}

/** Resolves on the first SIGTERM or SIGINT. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      done(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
