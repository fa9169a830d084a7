/**
 * The CloudFlow emulator as seen from the wire: a Web-standard Hono app that speaks fnf's RPC protocol on
 * `POST /` (and GET) with `Version=2019-03-15`, verifies signatures the way the real gateway does, and runs
 * Express flows through the FDL engine. The official Alibaba clients talk to it unchanged.
 *
 *   const emulator = createEmulator({ flows: [{ definition: yamlText }], handlers: { priceQuote } });
 *   serve({ fetch: emulator.app.fetch, port: 9400 });
 *
 * Per call: route check → read (≤ 1 MiB, chunked or not) → version and action (`resolveAction`) → verify (keys
 * looked up by `findKey`) → flow access → faults → action. `Version=2015-04-01` calls are the STS side
 * (actions/sts.ts), routed by the same `resolveAction`; the temporary keys it issues are found by the same
 * `findKey`, so the fnf side accepts them until they expire.
 * Every refusal is an EmulatorError rendered once, in the service's envelope, with `x-acs-request-id`: in the
 * `errorCodes` vocabulary on the fnf side, in the POP gateway's on the STS side (errors.ts).
 */
import { Hono, type Context } from 'hono';
import { API_VERSION, CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createFlow, deleteFlow, describeFlowAction, listFlows, updateFlow } from './actions/flows.js';
import { startSyncExecution } from './actions/start-sync-execution.js';
import { assumeRole, assumeRoleWithOidc, STS_API_VERSION } from './actions/sts.js';
import type { Action } from './actions/types.js';
import {
  createEngine,
  DEFAULT_MAX_DEPTH,
  FlowDefinitionError,
  MAX_DEPTH_LIMIT,
  loadFlowDefinition,
  systemSleep,
  type Sleep,
  type TaskHandlers,
} from './engine/index.js';
import { ERROR_CODES, EmulatorError, emulatorError, errorEnvelope, type ErrorCodes } from './errors.js';
import { createFaults, type FaultOptions } from './faults.js';
import { createFlowStore, type FlowStore } from './flow-store.js';
import { createNonceCache } from './nonce-cache.js';
import { readRpcCall } from './request.js';
import { createTemporaryKeyStore, type TemporaryKey } from './temporary-keys.js';
import { verifyCall, type AccessKey } from './verify.js';

export type { AccessKey } from './verify.js';
export type { ErrorCodes } from './errors.js';
export type { TemporaryKey } from './temporary-keys.js';
export type { FaultOptions } from './faults.js';

/** A flow to preload, e.g. one file of a flows folder. */
export interface FlowSource {
  /** Defaults to the definition's `Name`. */
  name?: string | undefined;
  /** FDL text (YAML or JSON). */
  definition: string;
  description?: string | undefined;
  /** Alias → version number (`prod: 1`). */
  aliases?: Readonly<Record<string, number>> | undefined;
  /** Where it came from (a file path), for error messages. */
  origin?: string | undefined;
}

/** One line per call, for the CLI's log. Never carries a key secret, a token or a signature. */
export interface CallLogLine {
  requestId: string;
  action: string | undefined;
  accessKeyId: string | undefined;
  status: number;
  code: string | undefined;
  ms: number;
}

export interface EmulatorOptions {
  /** Accepted keys. Default: `testid` / `testsecret`, without STS, for every flow. */
  keys?: readonly AccessKey[];
  /**
   * The vocabulary of error answers: `api` (default), the API reference's StartSyncExecution error table; or
   * `pop`, the POP gateway's codes for signature, key, time, nonce, token, route and permission failures. The STS
   * side answers in `pop` codes either way, as the real STS does; an expired temporary key is
   * `InvalidSecurityToken.Expired` in both.
   */
  errorCodes?: ErrorCodes;
  flows?: readonly FlowSource[];
  /** Local Task handlers (`Action: Local:<name>`). */
  handlers?: TaskHandlers;
  /** Used by `HTTP:Request` tasks; without it those tasks are unsupported. */
  fetch?: typeof fetch;
  /** Multiplies every Wait, retry backoff and timeout of an execution (0.01 runs a 10 s Wait in 100 ms). Default 1. */
  timeScale?: number;
  clock?: Clock;
  sleep?: Sleep;
  /** A float in [0, 1): the failure-rate draw and the engine's randomInt(). Default Math.random. */
  random?: () => number;
  uuid?: () => string;
  /** How far a request date may be from the server time, either way. Default 15 minutes (V3 and RPC alike). */
  dateWindowMs?: number;
  /** Largest request body. Default 1 MiB (the documented request maximum). */
  maxRequestSize?: number;
  /** Largest execution Input. Default 64 KiB (the state input maximum). */
  maxInputSize?: number;
  /**
   * The deepest JSON nesting of an Input (deeper: 400 InvalidArgument) and of any state's data (deeper: the
   * execution fails with FnF.DataLimitExceeded). Default 1000, at most 2000.
   */
  maxInputDepth?: number;
  /** Most nonces remembered at once. Default 100 000. */
  maxNonces?: number;
  faults?: FaultOptions;
  log?: (line: CallLogLine) => void;
  /**
   * How long every temporary key the STS side issues lives, in ms (≥ 1000), whatever `DurationSeconds` asked
   * for: expiry in seconds instead of 15 minutes, or on a virtual `clock`. Default: `DurationSeconds` (3600 s).
   */
  stsTokenTtlMs?: number;
  /** Most temporary keys remembered (expired ones too, so they answer `InvalidSecurityToken.Expired`). Default 10 000. */
  maxTemporaryKeys?: number;
}

export interface Emulator {
  app: Hono;
  store: FlowStore;
  keys: readonly AccessKey[];
  /**
   * A refusal as the emulator answers it (status, headers, envelope body) in its vocabulary, for a host that
   * must answer before the app sees the request (a request head too large to parse).
   */
  refusal(error: EmulatorError, hostId?: string): { status: number; headers: Record<string, string>; body: string };
  /**
   * The STS side's key store. `issue()` hands out a temporary key the fnf side accepts until it expires, as
   * `AssumeRole` does: for stand-ins of the other places platforms hand keys out (the ECS metadata service, a
   * credentials URI) in tests. `durationSeconds` defaults to 3600 (`stsTokenTtlMs` overrides it); with `flows` the
   * key may act on those flows only, as a key of `keys` with `flows` (an AssumeRole key acts on every flow).
   */
  sts: { issue(durationSeconds?: number, options?: { flows?: readonly string[] | undefined }): TemporaryKey };
}

export const DEFAULT_KEY: AccessKey = Object.freeze({ accessKeyId: 'testid', accessKeySecret: 'testsecret' });

/** An action served, and what the server checks before running it. */
interface ServedAction {
  run: Action;
  /** The parameter that names the flow it acts on (what a key limited to flows is held to). */
  flowParam?: 'FlowName' | 'Name';
  /** STS: a key limited to flows may not call it. */
  sts?: true;
  /** No AccessKey signs it (AssumeRoleWithOIDC: the OIDC token is the credential). */
  anonymous?: true;
}

/** The actions served, by API version: fnf's, and STS's. */
const ACTIONS: Readonly<Record<string, Readonly<Record<string, ServedAction>>>> = {
  [API_VERSION]: {
    StartSyncExecution: { run: startSyncExecution, flowParam: 'FlowName' },
    CreateFlow: { run: createFlow, flowParam: 'Name' },
    DescribeFlow: { run: describeFlowAction, flowParam: 'Name' },
    ListFlows: { run: listFlows },
    UpdateFlow: { run: updateFlow, flowParam: 'Name' },
    DeleteFlow: { run: deleteFlow, flowParam: 'Name' },
  },
  [STS_API_VERSION]: {
    AssumeRole: { run: assumeRole, sts: true },
    AssumeRoleWithOIDC: { run: assumeRoleWithOidc, sts: true, anonymous: true },
  },
};

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const {
    keys = [DEFAULT_KEY],
    errorCodes = 'api',
    flows = [],
    handlers = {},
    timeScale = 1,
    clock = systemClock,
    sleep = systemSleep,
    random = Math.random,
    uuid = () => crypto.randomUUID(),
    dateWindowMs = 15 * 60_000,
    maxRequestSize = 1024 * 1024,
    maxInputSize = 64 * 1024,
    maxInputDepth = DEFAULT_MAX_DEPTH,
    maxNonces = 100_000,
    faults: faultOptions = {},
    log,
    stsTokenTtlMs,
    maxTemporaryKeys = 10_000,
  } = options;
  for (const [name, value] of Object.entries({ dateWindowMs, maxRequestSize, maxInputSize })) {
    if (!(Number.isInteger(value) && value > 0)) throw new TypeError(`createEmulator(): ${name} must be a whole number > 0, got ${value}`);
  }
  if (!ERROR_CODES.includes(errorCodes))
    throw new TypeError(`createEmulator(): errorCodes must be ${ERROR_CODES.map((c) => `"${c}"`).join(' or ')}, got ${String(errorCodes)}`);
  if (!(Number.isInteger(maxInputDepth) && maxInputDepth >= 1 && maxInputDepth <= MAX_DEPTH_LIMIT))
    throw new TypeError(`createEmulator(): maxInputDepth must be a whole number from 1 to ${MAX_DEPTH_LIMIT}, got ${maxInputDepth}`);
  const keyMap = checkKeys(keys);
  const temporaryKeys = createTemporaryKeyStore({ clock, ttlMs: stsTokenTtlMs, max: maxTemporaryKeys });
  // The one key lookup: the configured keys, then the temporary ones STS issued.
  const findKey = (accessKeyId: string) => keyMap.get(accessKeyId) ?? temporaryKeys.get(accessKeyId);
  const engine = createEngine({
    handlers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    clock,
    sleep,
    timeScale,
    random,
    uuid,
    maxDepth: maxInputDepth,
  });
  const store = createFlowStore({ now: () => clock.now(), uuid });
  preload(store, flows);
  const nonces = createNonceCache({ windowMs: dateWindowMs, max: maxNonces, clock });
  const faults = createFaults(faultOptions, { clock, random, sleep: (ms) => sleep(ms) });

  const app = new Hono();
  app.all('*', async (c) => {
    const started = clock.now();
    const requestId = uuid().toUpperCase();
    const hostId = c.req.header('host') ?? 'fnf.emulator';
    let action: string | undefined;
    let accessKeyId: string | undefined;
    // Which side answers: fnf, or STS (which names itself `Sts` in troubleshooting links and speaks the POP codes).
    let product: 'fnf' | 'Sts' = 'fnf';
    const finish = (response: Response, code?: string) => {
      log?.({ requestId, action, accessKeyId, status: response.status, code, ms: clock.now() - started });
      return response;
    };
    try {
      if (c.req.path !== '/' || (c.req.method !== 'POST' && c.req.method !== 'GET')) {
        throw emulatorError('ActionNotSupported', `Only GET and POST on / are served, not ${c.req.method} ${c.req.path.slice(0, 80)}.`, {
          pop: 'InvalidApi.NotFound',
        });
      }
      const call = await readRpcCall(c.req.raw, maxRequestSize);
      action = call.action;
      if (call.version === STS_API_VERSION) product = 'Sts';
      const served = resolveAction(call.version, call.action);
      const key = served.anonymous ? undefined : await verifyCall(call, { findKey, clock, windowMs: dateWindowMs, nonces });
      accessKeyId = key?.accessKeyId;
      const mayUse = (flow: string) => key?.flows === undefined || key.flows.includes(flow);
      authorize(served, key, call.params, mayUse);
      await faults.apply();
      const body = await served.run({
        params: call.params,
        store,
        engine,
        clock,
        uuid,
        signal: c.req.raw.signal,
        maxInputSize,
        maxDepth: maxInputDepth,
        mayUse,
        temporaryKeys,
      });
      return finish(json(c, 200, { RequestId: requestId, ...body }, requestId));
    } catch (error) {
      const refusal = error instanceof EmulatorError ? error : emulatorError('InternalServerError');
      if (!(error instanceof EmulatorError))
        log?.({ requestId, action, accessKeyId, status: 500, code: `defect: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300), ms: 0 });
      const answer = refusal.render(product === 'Sts' ? 'pop' : errorCodes);
      return finish(json(c, answer.status, errorEnvelope(requestId, hostId, answer, product), requestId, refusal.headers), answer.code);
    }
  });
  const refusal = (error: EmulatorError, hostId = 'fnf.emulator') => {
    const requestId = uuid().toUpperCase();
    const answer = error.render(errorCodes);
    return {
      status: answer.status,
      headers: { ...JSON_HEADERS, 'x-acs-request-id': requestId, ...error.headers },
      body: JSON.stringify(errorEnvelope(requestId, hostId, answer)),
    };
  };
  const issue = (durationSeconds = 3600, { flows }: { flows?: readonly string[] | undefined } = {}) => {
    if (flows !== undefined) checkFlows('sts.issue()', flows);
    return temporaryKeys.issue(durationSeconds, flows);
  };
  return { app, store, keys, refusal, sts: { issue } };
}

/**
 * The action a call asks for, fnf's or STS's, checked before the signature (the version says how the call is to be
 * read, and whether it is signed at all).
 */
function resolveAction(version: string | undefined, action: string | undefined): ServedAction {
  if (!version) throw emulatorError('MissingRequiredParams', 'Version');
  const actions = Object.hasOwn(ACTIONS, version) ? ACTIONS[version] : undefined;
  if (!actions) throw emulatorError('APIVersionNotSupported', `"${version.slice(0, 40)}" is not served; use ${API_VERSION}.`);
  if (!action) throw emulatorError('MissingRequiredParams', 'Action');
  const served = Object.hasOwn(actions, action) ? actions[action] : undefined;
  if (!served) throw emulatorError('ActionNotSupported', `${action.slice(0, 80)} is not served by this emulator.`);
  return served;
}

/**
 * What the calling key may do. A key limited to flows acts on those only (403 AccessDenied, `Forbidden.RAM` in the
 * POP vocabulary) and holds no other permission, so STS refuses it AssumeRole (403 NoPermission): a limit cannot be
 * escaped through a role, whose temporary keys act on every flow.
 */
function authorize(served: ServedAction, key: AccessKey | undefined, params: Readonly<Record<string, string>>, mayUse: (flow: string) => boolean): void {
  if (key?.flows === undefined) return;
  if (served.sts) throw emulatorError('NoPermission', `AccessKey ${key.accessKeyId} is limited to flows and may not assume a role.`);
  const named = served.flowParam && params[served.flowParam];
  if (named && !mayUse(named)) {
    throw emulatorError('AccessDenied', `AccessKey ${key.accessKeyId} may not act on flow ${named.slice(0, 140)}.`, { pop: 'Forbidden.RAM' });
  }
}

const JSON_HEADERS = { 'content-type': 'application/json;charset=utf-8' };

function json(c: Context, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(body), status as 200, { ...JSON_HEADERS, 'x-acs-request-id': requestId, ...headers });
}

function checkKeys(keys: readonly AccessKey[]): Map<string, AccessKey> {
  if (keys.length === 0) throw new TypeError('createEmulator(): at least one access key is required');
  const map = new Map<string, AccessKey>();
  for (const key of keys) {
    if (!key.accessKeyId || !key.accessKeySecret) throw new TypeError('createEmulator(): every key needs accessKeyId and accessKeySecret');
    if (map.has(key.accessKeyId)) throw new TypeError(`createEmulator(): key ${key.accessKeyId} is listed twice`);
    if (key.securityTokens?.some((t) => !t)) throw new TypeError(`createEmulator(): key ${key.accessKeyId} has an empty security token`);
    if (key.flows !== undefined) checkFlows(`createEmulator(): key ${key.accessKeyId}`, key.flows);
    map.set(key.accessKeyId, key);
  }
  return map;
}

function checkFlows(label: string, flows: unknown): void {
  if (!Array.isArray(flows) || flows.some((flow) => typeof flow !== 'string' || !CLOUDFLOW_NAME.test(flow))) {
    throw new TypeError(`${label} flows must be a list of flow names`);
  }
}

/** Registers the preloaded flows; a bad one stops the start with a message naming it. */
function preload(store: FlowStore, flows: readonly FlowSource[]): void {
  for (const source of flows) {
    const label = source.origin ?? source.name ?? 'a preloaded flow';
    try {
      const name = source.name ?? loadFlowDefinition(source.definition).name;
      if (!name) throw new TypeError('the definition has no Name; give the flow a name (the file name in a flows folder)');
      store.create({ name, definition: source.definition, description: source.description });
      for (const [alias, version] of Object.entries(source.aliases ?? {})) store.setAlias(name, alias, version);
    } catch (error) {
      const message = error instanceof EmulatorError || error instanceof FlowDefinitionError || error instanceof TypeError ? error.message : String(error);
      throw new TypeError(`createEmulator(): ${label}: ${message}`, { cause: error });
    }
  }
}
