/** `flowgate emulator`: the CloudFlow emulator alone, from command-line flags. */
import { parseArgs } from 'node:util';
import {
  DEFAULT_EMULATOR_PORT,
  DEFAULT_KEY,
  ERROR_CODES,
  loadFlowsFolder,
  loadHandlers,
  startEmulator,
  type AccessKey,
  type CallLogLine,
  type ErrorCodes,
  type RunningEmulator,
  type StartEmulatorOptions,
} from '../platform/node/emulator.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { nextSignal } from './signals.js';
import { readFileSync } from 'node:fs';
import { parseDuration } from '../config/units.js';
import { PACKAGE_ROOT } from './package-info.js';

/** What `flowgate emulator` serves without --flows: the example flows shipped in the package, and their handlers. */
export const EXAMPLE_FLOWS = `${PACKAGE_ROOT}examples/flows`;
const EXAMPLE_HANDLERS = `${PACKAGE_ROOT}examples/handlers/index.mjs`;

export const EMULATOR_USAGE = `Usage: flowgate emulator [--port N] [--host H] [--flows DIR] [--handlers FILE]
                         [--access-key ID:SECRET[:FLOW,FLOW...]]... [--sts-token ID:TOKEN]...
                         [--sts PORT] [--sts-token-ttl DURATION] [--sts-tls-cert FILE --sts-tls-key FILE]
                         [--error-codes api|pop] [--latency MS] [--throttle N] [--failure-rate P] [--time-scale F]

Runs the CloudFlow emulator alone until SIGTERM or SIGINT. Without --flows it serves the example flows that ship
with flowgate (examples/flows, with their handlers), the ones the demo runs.

Options:
  -p, --port N            the port; default ${DEFAULT_EMULATOR_PORT}
      --host H            the address; default 127.0.0.1
      --flows DIR         a folder of FDL flows (*.yaml, *.yml, *.json); default the example flows
      --handlers FILE     a JS module of local task handlers; default the examples' with the example flows
      --access-key ID:SECRET[:FLOW,...]   a key it accepts (repeatable); default testid:testsecret
      --sts-token ID:TOKEN                an STS token that key must send (repeatable)
      --sts PORT                          serve STS on a port of its own as well
      --sts-token-ttl DURATION            how long the temporary keys STS hands out live
      --sts-tls-cert FILE --sts-tls-key FILE   serve the --sts port over HTTPS
      --error-codes api|pop               the StartSyncExecution error table (api, default) or the POP gateway's
      --latency MS        added to every call
      --throttle N        ResourceThrottled above N requests per second
      --failure-rate P    fail this fraction (0 to 1) of calls
      --time-scale F      run Wait states and timeouts F times as fast (0.01: 100 times faster)
  -h, --help              print this help
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
      'error-codes': { type: 'string' },
      latency: { type: 'string' },
      throttle: { type: 'string' },
      'failure-rate': { type: 'string' },
      'time-scale': { type: 'string' },
      sts: { type: 'string' },
      'sts-token-ttl': { type: 'string' },
      'sts-tls-cert': { type: 'string' },
      'sts-tls-key': { type: 'string' },
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
  const ttl = values['sts-token-ttl'];
  const stsTokenTtlMs = ttl === undefined ? undefined : parseDuration(ttl);
  if (stsTokenTtlMs !== undefined && stsTokenTtlMs < 1000)
    throw new Error(`--sts-token-ttl must be a duration of 1s or more, such as "30s" or "15m", got "${ttl}"`);
  if (ttl !== undefined && stsTokenTtlMs === undefined) throw new Error(`--sts-token-ttl must be a duration such as "30s" or "15m", got "${ttl}"`);
  const [certFile, keyFile] = [values['sts-tls-cert'], values['sts-tls-key']];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error('--sts-tls-cert and --sts-tls-key go together');
  if (certFile !== undefined && values.sts === undefined) throw new Error('--sts-tls-cert and --sts-tls-key serve the --sts port; give --sts PORT too');
  const stsPort = numberFlag('sts', values.sts, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number');
  const readPem = (file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  };
  const errorCodes = values['error-codes'];
  if (errorCodes !== undefined && !ERROR_CODES.includes(errorCodes as ErrorCodes)) throw new Error(`--error-codes must be api or pop, got "${errorCodes}"`);
  return {
    ...(stsPort !== undefined ? { sts: { port: stsPort, tls: certFile && keyFile ? { cert: readPem(certFile), key: readPem(keyFile) } : undefined } } : {}),
    ...(stsTokenTtlMs !== undefined ? { stsTokenTtlMs } : {}),
    ...(errorCodes !== undefined ? { errorCodes: errorCodes as ErrorCodes } : {}),
    port: numberFlag('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number') ?? DEFAULT_EMULATOR_PORT,
    host: values.host,
    accessKeys: keys,
    // Without --flows, the example flows and, unless --handlers says otherwise, their handlers: the demo's set.
    flows: loadFlowsFolder(values.flows ?? EXAMPLE_FLOWS),
    handlers: values.handlers ? await loadHandlers(values.handlers) : values.flows ? {} : await loadHandlers(EXAMPLE_HANDLERS),
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
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(EMULATOR_USAGE);
    return 0;
  }
  let options: StartEmulatorOptions;
  let running: RunningEmulator;
  try {
    options = await emulatorOptionsFromArgs(args);
    running = await startEmulator({ ...options, log: stdoutCallLog });
  } catch (error) {
    process.stderr.write(`flowgate emulator: ${error instanceof Error ? error.message : String(error)}\n\n${EMULATOR_USAGE}`);
    return 2;
  }
  const flows = running.emulator.store.list().map((f) => f.name);
  const from = args.some((arg) => arg === '--flows' || arg.startsWith('--flows=')) ? '' : ' from the examples (--flows DIR serves your own)';
  process.stderr.write(
    `CloudFlow emulator listening on ${running.url} (Version 2019-03-15, ${flows.length} flow${flows.length === 1 ? '' : 's'}${from}${flows.length ? `: ${flows.join(', ')}` : ''})\n`,
  );
  for (const key of running.emulator.keys) {
    // The built-in test key is public; a key the user chose is shown by id only.
    const secret =
      key.accessKeyId === DEFAULT_KEY.accessKeyId && key.accessKeySecret === DEFAULT_KEY.accessKeySecret
        ? ` secret ${DEFAULT_KEY.accessKeySecret}`
        : ' (secret as given)';
    const limits = `${key.securityTokens?.length ? ' (STS token required)' : ''}${key.flows ? ` (flows: ${key.flows.join(', ')})` : ''}`;
    process.stderr.write(`access key: ${key.accessKeyId}${secret}${limits}\n`);
  }
  const ttl = options.stsTokenTtlMs !== undefined ? `tokens live ${options.stsTokenTtlMs / 1000} s` : 'tokens live DurationSeconds (3600 s by default)';
  process.stderr.write(`STS (AssumeRole, AssumeRoleWithOIDC) at ${running.url}${running.stsUrl ? ` and ${running.stsUrl}` : ''}; ${ttl}\n`);
  process.stderr.write(`gateway config: upstream: { endpoint: ${running.url}, credentials: { accessKeyId: ..., accessKeySecret: ... } }\n`);
  await signal;
  process.stderr.write('flowgate emulator: stopping\n');
  await running.close();
  return 0;
}

/** `ID:SECRET`, or `ID:SECRET:flow1,flow2` for a key limited to those flows → a key. Never echoes the secret. */
export function parseAccessKey(text: string): AccessKey {
  const [id = '', secret = '', flows, ...rest] = text.split(':');
  const shown = id ? `${id.slice(0, 40)}:…` : '…';
  if (!id || !secret || rest.length > 0 || flows === '')
    throw new Error(`--access-key must be ID:SECRET or ID:SECRET:FLOW,FLOW (no ":" in the secret), got "${shown}"`);
  if (flows === undefined) return { accessKeyId: id, accessKeySecret: secret };
  const names = flows.split(',');
  const bad = names.find((name) => !CLOUDFLOW_NAME.test(name));
  if (bad !== undefined) throw new Error(`--access-key ${id}: "${bad.slice(0, 40)}" is not a flow name`);
  return { accessKeyId: id, accessKeySecret: secret, flows: names };
}
