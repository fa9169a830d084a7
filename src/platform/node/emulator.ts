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
import type { Duplex } from 'node:stream';
import { STATUS_CODES, type Server } from 'node:http';
import {
  createEmulator,
  EmulatorError,
  type AccessKey,
  type Emulator,
  type EmulatorOptions,
  type FlowSource,
  type TaskHandler,
  type TaskHandlers,
} from '../../emulator/index.js';
import { listen, type HttpServer } from './http-server.js';

export * from '../../emulator/index.js';

export const DEFAULT_EMULATOR_PORT = 9400;
const DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;
/** Room for the headers besides a request line as long as the largest request. */
const HEAD_ALLOWANCE = 64 * 1024;
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
  /** `http://127.0.0.1:<port>`: the endpoint to give a client or a gateway (`upstream.endpoint`). */
  url: string;
  port: number;
  host: string;
  /** The separate STS listener's URL (`https://…` with TLS), when `sts` asked for one. */
  stsUrl?: string | undefined;
  emulator: Emulator;
  /** Stops accepting, lets calls in flight finish for up to `graceMs` (default 10 s), then cuts the rest. */
  stop(graceMs?: number): Promise<void>;
  /** The same as `stop`. */
  close(graceMs?: number): Promise<void>;
}

/** A flow definition given in code: FDL text (YAML or JSON), or the parsed document. */
export type FlowDefinitionInput = string | Readonly<Record<string, unknown>>;

export interface StartEmulatorOptions extends Omit<EmulatorOptions, 'keys' | 'flows' | 'handlers'> {
  /**
   * The flows to serve: a folder of `*.yaml`/`*.yml`/`*.json` files (with an optional `aliases.yaml`), an object
   * of flow name → definition, or a list of `FlowSource`s. Default: none (CreateFlow can add them).
   */
  flows?: string | Readonly<Record<string, FlowDefinitionInput>> | readonly FlowSource[] | undefined;
  /** Local Task handlers (`Action: Local:<name>`): an object of functions, or the path of an ES module exporting them. */
  handlers?: string | TaskHandlers | undefined;
  /** Accepted keys. Default: `testid` / `testsecret`, for every flow, without STS. */
  accessKeys?: readonly AccessKey[] | undefined;
  /** Default 0: a free port. (`flowgate emulator` uses 9400.) */
  port?: number | undefined;
  /** Default 127.0.0.1: the emulator accepts test keys and should not face a network. */
  host?: string | undefined;
  /**
   * A second listener for STS (`stsEndpoint` of a gateway), besides the main one, which answers STS as well. With
   * `tls` it serves HTTPS: the official Node credentials library calls STS over HTTPS only.
   */
  sts?: { port?: number | undefined; tls?: { cert: string | Buffer; key: string | Buffer } | undefined } | undefined;
}

/**
 * Starts the CloudFlow emulator on loopback, for integration tests and the `flowgate emulator` command:
 *
 *   const emulator = await startEmulator({ flows: 'test/flows', handlers: { priceQuote }, timeScale: 0.01 });
 *   // … point a client or a gateway at emulator.url …
 *   await emulator.stop();
 *
 * With `sts: { port, tls }` it also serves STS (AssumeRole, AssumeRoleWithOIDC) on a port of its own, over HTTPS
 * with `tls` (`stsUrl`); the main port answers STS as well.
 *
 * Resolves once it listens. Throws (TypeError or Error, naming the option) for a flow that does not load, a
 * missing folder or module, or a bad option; rejects with EADDRINUSE when a fixed port is taken.
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', flows, handlers, accessKeys, sts, ...rest } = options;
  const emulatorOptions: EmulatorOptions = {
    ...rest,
    ...(accessKeys !== undefined ? { keys: accessKeys } : {}),
    flows: flowSources(flows),
    handlers: typeof handlers === 'string' ? await loadHandlers(handlers) : (handlers ?? {}),
  };
  const emulator = createEmulator(emulatorOptions);
  const maxRequestSize = emulatorOptions.maxRequestSize ?? DEFAULT_MAX_REQUEST_SIZE;
  const serve = (listenPort: number, tls?: { cert: string | Buffer; key: string | Buffer }) =>
    listen(emulator.app.fetch, {
      port: listenPort,
      host,
      tls,
      // RPC parameters may all be in the query (a GET): a request line as long as the largest request is served,
      // not cut off at Node's 16 KiB default.
      serverOptions: { maxHeaderSize: maxRequestSize + HEAD_ALLOWANCE },
      configure(server: Server) {
        // Express executions may run 5 minutes: no idle cut-off while a call awaits its answer.
        server.requestTimeout = 0;
        server.setTimeout(0);
        server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerUnparsed(emulator, error, socket, maxRequestSize));
      },
    });
  const http = await serve(port);
  let stsHttp: HttpServer | undefined;
  try {
    stsHttp = sts ? await serve(sts.port ?? 0, sts.tls) : undefined;
  } catch (error) {
    await http.close(0);
    throw error;
  }
  const stop = async (graceMs = 10_000) => void (await Promise.all([http.close(graceMs), stsHttp?.close(graceMs)]));
  return { url: http.url, port: http.port, host, stsUrl: stsHttp?.url, emulator, stop, close: stop };
}

function flowSources(flows: StartEmulatorOptions['flows']): FlowSource[] {
  if (flows === undefined) return [];
  if (typeof flows === 'string') return loadFlowsFolder(flows);
  if (Array.isArray(flows)) return [...(flows as readonly FlowSource[])];
  return Object.entries(flows as Readonly<Record<string, FlowDefinitionInput>>).map(([name, definition]) => ({
    name,
    // DescribeFlow returns a definition as text; an object given in code becomes its JSON.
    definition: typeof definition === 'string' ? definition : JSON.stringify(definition, null, 2),
    origin: `flows.${name}`,
  }));
}

/**
 * A request Node's parser refused (the server's `clientError`), answered in the emulator's envelope instead of
 * Node's bare status line, so the official clients can read it: a head past the limit is 400 EntityTooLarge,
 * anything else 400 InvalidArgument. The connection then closes: its bytes cannot be trusted.
 */
function answerUnparsed(emulator: Emulator, error: NodeJS.ErrnoException, socket: Duplex, maxRequestSize: number): void {
  if (socket.writable && error.code !== 'ECONNRESET') {
    const refusal =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new EmulatorError('EntityTooLarge', String(maxRequestSize))
        : new EmulatorError('InvalidArgument', 'The request could not be parsed as HTTP/1.1.');
    const answer = emulator.refusal(refusal);
    const head = Object.entries({ ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)), connection: 'close' })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n${answer.body}`);
  }
  socket.destroy();
}
