/**
 * The emulator on Node, and the emulator's package entry: loads a flows folder and a handlers module from disk
 * and serves `createEmulator()` over HTTP; the emulator's public API (`src/emulator/index.ts`) is re-exported,
 * so integration tests need this one import. Everything file-system related lives here so `src/emulator`
 * stays Web-standard. The `flowgate emulator` command is `src/cli/emulator.ts`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { createEmulator, type Emulator, type EmulatorOptions, type FlowSource, type TaskHandler, type TaskHandlers } from '../../emulator/index.js';
import type { Server } from 'node:http';
import { listen, type HttpServer } from './http-server.js';

export * from '../../emulator/index.js';

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

export interface RunningEmulator {
  url: string;
  port: number;
  host: string;
  /** The separate STS listener's URL (`https://…` with TLS), when `sts` asked for one. */
  stsUrl?: string | undefined;
  emulator: Emulator;
  /** Stops accepting, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export interface StartEmulatorOptions extends EmulatorOptions {
  /** Default 9400; 0 picks a free port. */
  port?: number | undefined;
  /** Default 127.0.0.1: the emulator accepts test keys and should not face a network. */
  host?: string | undefined;
  /**
   * A second listener for STS (`stsEndpoint` of a gateway), besides the main one, which answers STS as well. With
   * `tls` it serves HTTPS: the official Node credentials library calls STS over HTTPS only.
   */
  sts?: { port?: number | undefined; tls?: { cert: string | Buffer; key: string | Buffer } | undefined } | undefined;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const { port = DEFAULT_EMULATOR_PORT, host = '127.0.0.1', sts, ...emulatorOptions } = options;
  const emulator = createEmulator(emulatorOptions);
  const configure = (server: Server) => {
    // Express executions may run 5 minutes: no idle cut-off while a call awaits its answer.
    server.requestTimeout = 0;
    server.setTimeout(0);
  };
  const http = await listen(emulator.app.fetch, { port, host, configure });
  let stsHttp: HttpServer | undefined;
  try {
    stsHttp = sts ? await listen(emulator.app.fetch, { port: sts.port ?? 0, host, configure, tls: sts.tls }) : undefined;
  } catch (error) {
    await http.close(0);
    throw error;
  }
  return {
    url: http.url,
    port: http.port,
    host,
    stsUrl: stsHttp?.url,
    emulator,
    close: async (graceMs = 10_000) => void (await Promise.all([http.close(graceMs), stsHttp?.close(graceMs)])),
  };
}
