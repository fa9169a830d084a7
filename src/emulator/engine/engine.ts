/**
 * `createEngine(options).execute(definition, input)` runs one execution to its end and reports it the way
 * StartSyncExecution does: `Succeeded` with an output, `Failed` with an error code and message, `TimedOut`, or
 * `Stopped`. It knows nothing of HTTP servers; a host wraps it.
 *
 * Task actions it can run:
 *  - `Local:<name>` calls `handlers[<name>]` (see local-task.ts);
 *  - `HTTP:Request` goes through the injected `fetch` (see http-task.ts); without one it is unsupported.
 * Any other Action (FC:InvokeFunction …) fails the execution with `FnF.ActionNotSupported` before it starts,
 * as does a Local action without a handler, so a half-run never happens because of a missing handler.
 *
 * Time: every wait, backoff and timeout goes through the injected `sleep`, scaled by `timeScale`; timestamps come
 * from `clock`. The deadline is the flow `Timeout`, capped by `maxDurationMs` (the Express 5-minute cap).
 */
import type { ExecutionMode, FlowDefinition } from './definition.js';
import { ErrorNames, ExecutionInterrupt, StateFailure } from './errors.js';
import { isObject } from './expression/values.js';
import { DEFAULT_MAX_DEPTH, fromHandlerValue, JsonDepthError, MAX_DEPTH_LIMIT } from './json.js';
import { HTTP_REQUEST_ACTION } from './http-task.js';
import { runScope, type RunEnvironment } from './interpreter.js';
import { localHandlerName, type TaskHandlers } from './local-task.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { systemSleep, type Sleep } from './time.js';

export interface EngineOptions {
  /** Local Task handlers, by name (`Action: Local:<name>`). */
  handlers?: TaskHandlers;
  /** Used by `HTTP:Request` tasks; never the global fetch implicitly. */
  fetch?: typeof fetch;
  clock?: Clock;
  sleep?: Sleep;
  /** Multiplies every wait, backoff and timeout: 0.01 runs a 10 s Wait in 100 ms. Default 1. */
  timeScale?: number;
  /** Hard cap on an execution, before scaling. Default 300 000 (Express: 5 minutes). */
  maxDurationMs?: number;
  /** The largest state output, in bytes of JSON. Default 65 536 (64 KiB). */
  maxStateBytes?: number;
  /** The deepest nesting of an execution's input and of any state's data. Default 1000, at most 2000. */
  maxDepth?: number;
  /** For `randomInt()`: a float in [0, 1). Default Math.random. */
  random?: () => number;
  /** For `uuid()` and default execution names. Default crypto.randomUUID. */
  uuid?: () => string;
}

export interface ExecuteOptions {
  /** `$Context.Execution.Name`. Default: a UUID. */
  executionName?: string;
  /** `$Context.Flow.Name`. Default: the definition's Name. */
  flowName?: string;
  /** Aborting it stops the execution (status `Stopped`), like StopExecution. */
  signal?: AbortSignal;
}

export type ExecutionStatus = 'Succeeded' | 'Failed' | 'TimedOut' | 'Stopped';

export interface ExecutionResult {
  status: ExecutionStatus;
  /** Present when `status` is `Succeeded`. */
  output?: unknown;
  /** Present unless `status` is `Succeeded`: the Fail `Code`, the unhandled error name, or `FnF.Timeout`. */
  errorCode?: string;
  errorMessage?: string;
  /** Clock milliseconds. */
  startedAt: number;
  stoppedAt: number;
}

export interface Engine {
  execute(definition: FlowDefinition, input: Record<string, unknown>, options?: ExecuteOptions): Promise<ExecutionResult>;
  /** The Task Actions of a definition this engine cannot run; empty when it can run all of them. */
  unsupportedActions(definition: FlowDefinition): string[];
}

export const EXPRESS_MAX_DURATION_MS = 300_000;
export const MAX_STATE_BYTES = 64 * 1024;

export function createEngine(options: EngineOptions = {}): Engine {
  const {
    handlers = {},
    fetch: fetchFn,
    clock = systemClock,
    sleep = systemSleep,
    timeScale = 1,
    maxDurationMs = EXPRESS_MAX_DURATION_MS,
    maxStateBytes = MAX_STATE_BYTES,
    maxDepth = DEFAULT_MAX_DEPTH,
    random = Math.random,
    uuid = () => crypto.randomUUID(),
  } = options;
  checkOptions(options, handlers, timeScale, maxDurationMs, maxStateBytes);
  if (!(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= MAX_DEPTH_LIMIT))
    throw new TypeError(`createEngine(): maxDepth must be a whole number from 1 to ${MAX_DEPTH_LIMIT}, got ${maxDepth}`);
  const scaledSleep: Sleep = (ms, signal) => sleep(ms * timeScale, signal);

  const unsupportedActions = (definition: FlowDefinition): string[] =>
    definition.actions.filter((action) => {
      if (action === HTTP_REQUEST_ACTION) return fetchFn === undefined;
      const name = localHandlerName(action);
      return name === undefined || typeof handlers[name] !== 'function';
    });

  async function execute(definition: FlowDefinition, input: Record<string, unknown>, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (!isObject(input)) throw new TypeError('execute(): input must be a JSON object');
    const startedAt = clock.now();
    const finish = (fields: Omit<ExecutionResult, 'startedAt' | 'stoppedAt'>): ExecutionResult => ({ ...fields, startedAt, stoppedAt: clock.now() });

    const unsupported = unsupportedActions(definition);
    if (unsupported.length > 0) {
      return finish({
        status: 'Failed',
        errorCode: ErrorNames.ActionNotSupported,
        errorMessage: `the emulator cannot run Action ${unsupported.map((a) => `"${a}"`).join(', ')}: ${actionHint(unsupported)}`,
      });
    }
    if (options.signal?.aborted) return finish(stopped(options.signal.reason));

    const run = new AbortController();
    const stop = () => run.abort(new ExecutionInterrupt('stopped', stopMessage(options.signal?.reason)));
    options.signal?.addEventListener('abort', stop, { once: true });
    const limitMs = Math.min((definition.timeoutSeconds ?? Infinity) * 1000, maxDurationMs);
    const limitText =
      definition.timeoutSeconds !== undefined && definition.timeoutSeconds * 1000 <= maxDurationMs
        ? `the flow Timeout of ${definition.timeoutSeconds} s`
        : `the ${maxDurationMs / 1000} s maximum duration`;
    void scaledSleep(limitMs, run.signal).then(
      () => run.abort(new ExecutionInterrupt('timeout', `the execution exceeded ${limitText}`)),
      () => undefined,
    );
    // Lets the result settle on timeout or stop even if a handler ignores its signal and never returns.
    const interrupted = new Promise<never>((_, reject) => run.signal.addEventListener('abort', () => reject(run.signal.reason), { once: true }));
    interrupted.catch(() => undefined);

    // The caller's object stays the caller's: the execution works on a copy, numbers kept exact.
    let inputCopy: Record<string, unknown>;
    try {
      inputCopy = fromHandlerValue(input, { maxDepth }) as Record<string, unknown>;
    } catch (error) {
      throw new TypeError(`execute(): input must be JSON ${error instanceof JsonDepthError ? error.message : `(${(error as Error).message})`}`, {
        cause: error,
      });
    }
    const env: RunEnvironment = {
      handlers,
      fetch: fetchFn,
      clock,
      sleep: scaledSleep,
      builtins: { random, uuid, maxDepth },
      mode: definition.mode,
      maxStateBytes,
      maxDepth,
      execution: { name: options.executionName ?? uuid(), flowName: options.flowName ?? definition.name ?? '', input: inputCopy },
      global: {},
    };
    try {
      const output = await Promise.race([runScope(env, definition.scope, inputCopy, run.signal), interrupted]);
      return finish({ status: 'Succeeded', output });
    } catch (error) {
      return finish(describeFailure(error));
    } finally {
      options.signal?.removeEventListener('abort', stop);
      // Cancels the deadline timer and anything still running (e.g. a handler that ignored a failure).
      if (!run.signal.aborted) run.abort(new ExecutionInterrupt('finished', 'the execution finished'));
    }
  }

  return { execute, unsupportedActions };
}

function describeFailure(error: unknown): Omit<ExecutionResult, 'startedAt' | 'stoppedAt'> {
  if (error instanceof ExecutionInterrupt) {
    if (error.kind === 'timeout') return { status: 'TimedOut', errorCode: ErrorNames.Timeout, errorMessage: error.message };
    return { status: 'Stopped', errorMessage: error.message };
  }
  if (error instanceof StateFailure) return { status: 'Failed', errorCode: error.code, errorMessage: error.detail };
  // Not an FDL error: a defect in the engine or the host. Reported, not thrown, so the caller still gets a result.
  return { status: 'Failed', errorCode: ErrorNames.RuntimeError, errorMessage: error instanceof Error ? error.message : String(error) };
}

function stopped(reason: unknown): Omit<ExecutionResult, 'startedAt' | 'stoppedAt'> {
  return { status: 'Stopped', errorMessage: stopMessage(reason) };
}

function stopMessage(reason: unknown): string {
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return `the execution was stopped${detail}`;
}

function actionHint(actions: string[]): string {
  return actions.some((a) => localHandlerName(a) !== undefined)
    ? 'register a handler for each Local:<name> action'
    : 'the emulator runs Local:<handler> and HTTP:Request tasks only';
}

function checkOptions(options: EngineOptions, handlers: TaskHandlers, timeScale: number, maxDurationMs: number, maxStateBytes: number): void {
  if (!isObject(handlers)) throw new TypeError('createEngine(): handlers must be an object of functions');
  for (const [name, handler] of Object.entries(handlers)) {
    if (typeof handler !== 'function') throw new TypeError(`createEngine(): handler "${name}" is not a function`);
  }
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new TypeError(`createEngine(): timeScale must be a number > 0, got ${timeScale}`);
  if (!(Number.isFinite(maxDurationMs) && maxDurationMs > 0)) throw new TypeError(`createEngine(): maxDurationMs must be a number > 0, got ${maxDurationMs}`);
  if (!(Number.isInteger(maxStateBytes) && maxStateBytes > 0))
    throw new TypeError(`createEngine(): maxStateBytes must be a whole number > 0, got ${maxStateBytes}`);
  for (const key of ['fetch', 'sleep', 'random', 'uuid'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`createEngine(): ${key} must be a function`);
  }
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') throw new TypeError('createEngine(): clock must have now()');
}

export type { ExecutionMode };
