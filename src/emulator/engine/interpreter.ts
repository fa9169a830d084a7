/**
 * Runs states. One execution = one `RunEnvironment`; scopes (the flow, Parallel branches, Map iterations) run
 * with `runScope`, which follows `Next` until a state ends the scope.
 *
 * Per state (CloudFlow FDL, "Input and output"): `$Input = InputConstructor(raw input)`, then the state's work produces `$Output`
 * (the raw result), then `OutputConstructor` builds the state output (seeing `$Global` as it was), then
 * `GlobalConstructor` updates `$Global` from the raw `$Output`. Without constructors a state passes on its input
 * (Pass, Wait, Choice, Succeed) or its raw result (Task, Parallel `{Branch<i>}`, Map `{Items}`).
 *
 * Cancellation is one AbortSignal tree: the execution's signal (timeout, stop) → a Parallel/Map child signal
 * (a sibling failed) → a Task's own signal (Task Timeout). Every sleep and fetch is tied to the nearest one.
 */
import { utf8 } from '../../lib/bytes.js';
import { renderTemplate, type Template } from './constructor.js';
import type { ChoiceState, ExecutionMode, MapState, ParallelState, Scope, State, TaskState } from './definition.js';
import { ErrorNames, ExecutionInterrupt, StateFailure, toStateFailure } from './errors.js';
import type { CompiledExpression } from './expression/ast.js';
import { isObject } from './expression/values.js';
import type { BuiltinEnvironment } from './expression/builtins.js';
import { evaluateExpression, truthy, type ExpressionScope } from './expression/evaluate.js';
import { depthOf, fromHandlerValue, isNumeric, JsonDepthError, JsonSizeError, stringifyExact, toDouble, toHandlerValue } from './json.js';
import { runHttpRequest, HTTP_REQUEST_ACTION } from './http-task.js';
import { localHandlerName, type TaskContext, type TaskHandlers } from './local-task.js';
import type { Clock } from '../../lib/clock.js';
import type { Sleep } from './time.js';

export interface RunEnvironment {
  handlers: TaskHandlers;
  fetch: typeof fetch | undefined;
  clock: Clock;
  /** Already scaled by timeScale. */
  sleep: Sleep;
  builtins: BuiltinEnvironment;
  mode: ExecutionMode;
  maxStateBytes: number;
  /** The deepest nesting of any state's data. */
  maxDepth: number;
  execution: { name: string; flowName: string; input: unknown };
  /**
   * `$Global`: shared by every scope of the execution (Parallel branches and Map iterations may race on it).
   * Replaced by each GlobalConstructor, never changed in place, so whoever read it keeps what it read.
   */
  global: Readonly<Record<string, unknown>>;
}

/**
 * One state's run, as `$Context.Current` shows it. `retryCount` grows with each retry, and every scope an
 * expression of this state sees is built from here (`scopeOf`), so no reader can see a stale count.
 */
interface StateRun {
  name: string;
  retryCount: number;
}

interface StateResult {
  output: unknown;
  /** Undefined when the state ends its scope. */
  next?: string;
}

const WAIT_LIMIT_SECONDS: Record<ExecutionMode, number> = { Express: 20, Standard: 300 };

export async function runScope(env: RunEnvironment, scope: Scope, input: unknown, signal: AbortSignal): Promise<unknown> {
  let state = scope.states.get(scope.startAt)!;
  let data = input;
  for (;;) {
    signal.throwIfAborted();
    const result = await runState(env, state, data, signal);
    data = result.output;
    if (result.next === undefined) return data;
    state = scope.states.get(result.next)!;
  }
}

async function runState(env: RunEnvironment, state: State, rawInput: unknown, signal: AbortSignal): Promise<StateResult> {
  const run: StateRun = { name: state.name, retryCount: 0 };
  const input = state.input ? await render(env, state.input, scopeOf(env, run, rawInput)) : rawInput;

  let result: unknown = input;
  switch (state.type) {
    case 'Choice':
      return { output: input, next: await choose(env, state, scopeOf(env, run, input)) };
    case 'Fail':
      // Raised like `throw`: an enclosing Parallel/Map may Retry/Catch it; otherwise it fails the execution.
      throw new StateFailure(state.code ?? ErrorNames.Failed, state.detail ?? '');
    case 'Wait': {
      // The same bounds at run time as at load time (CloudFlow FDL, "Wait"): whole seconds, 1 to 20 in Express mode.
      const seconds = await resolveSeconds(env, state.seconds, scopeOf(env, run, input), 'Seconds', 1, WAIT_LIMIT_SECONDS[env.mode]);
      await env.sleep(seconds * 1000, signal);
      break;
    }
    case 'Task':
    case 'Parallel':
    case 'Map': {
      const outcome = await withErrorHandling(env, state, run, input, signal, () => act(env, state, run, input, signal));
      if (outcome.caught) return { output: checkData(env, `the output of state "${state.name}"`, outcome.output), next: outcome.next };
      result = outcome.value;
      break;
    }
    case 'Pass':
    case 'Succeed':
      break;
  }

  // OutputConstructor sees $Global as it was before this state's GlobalConstructor (CloudFlow FDL, "Global variables").
  const output = state.output ? await render(env, state.output, scopeOf(env, run, input, { Output: result })) : result;
  if (state.global) {
    const updates = (await render(env, state.global, scopeOf(env, run, input, { Output: result }))) as Record<string, unknown>;
    const next = { ...env.global, ...updates };
    // Depth only: global values have a size limit of their own (256 KiB each), larger than a state's.
    checkDepth(env, `$Global after state "${state.name}"`, next);
    env.global = next;
  }
  return { output: checkData(env, `the output of state "${state.name}"`, output), next: state.type === 'Succeed' ? undefined : state.next };
}

/**
 * The variables an expression of this state sees. `current` adds `Output` (OutputConstructor, GlobalConstructor)
 * or `Error` (a Catch); `$Output` is then the same value as `$Context.Current.Output`.
 */
function scopeOf(env: RunEnvironment, run: StateRun, input: unknown, current: { Output?: unknown; Error?: unknown } = {}): ExpressionScope {
  return {
    Input: input,
    ...('Output' in current ? { Output: current.Output } : {}),
    Context: {
      Execution: { Name: env.execution.name, Input: env.execution.input, RoleArn: '' },
      // An addition of this engine: the flow's name.
      Flow: { Name: env.execution.flowName },
      Current: { Name: run.name, Input: input, RetryCount: run.retryCount, ...current },
    },
    Global: env.global,
  };
}

function act(env: RunEnvironment, state: TaskState | ParallelState | MapState, run: StateRun, input: unknown, signal: AbortSignal): Promise<unknown> {
  switch (state.type) {
    case 'Task':
      return runTask(env, state, run, input, signal);
    case 'Parallel':
      return runParallel(env, state, input, signal);
    case 'Map':
      return runMap(env, state, run, input, signal);
  }
}

async function choose(env: RunEnvironment, state: ChoiceState, scope: ExpressionScope): Promise<string> {
  for (const branch of state.branches) {
    if (truthy(await evaluate(env, branch.condition, scope))) return branch.next;
  }
  return state.default;
}

type Outcome = { caught: false; value: unknown } | { caught: true; output: unknown; next: string };

/**
 * Retry first, Catch once retries are spent (CloudFlow FDL, "Error handling"). In each list only the first rule matching the
 * error applies. Each Retry rule counts its own attempts; `MaxAttempts` counts retries after the first try.
 * The wait before retry n (0-based) is `IntervalSeconds × BackoffRate^n`, capped by `MaxBackoffSeconds`.
 */
async function withErrorHandling(
  env: RunEnvironment,
  state: TaskState | ParallelState | MapState,
  run: StateRun,
  input: unknown,
  signal: AbortSignal,
  attempt: () => Promise<unknown>,
): Promise<Outcome> {
  const used = state.retry.map(() => 0);
  for (;;) {
    try {
      return { caught: false, value: await attempt() };
    } catch (thrown) {
      // The whole execution is over (timeout, stop, a failed sibling): nothing here may catch that.
      if (signal.aborted) throw signal.reason;
      const failure = toStateFailure(thrown);
      const ruleIndex = state.retry.findIndex((rule) => matches(rule.errors, failure.code));
      const rule = state.retry[ruleIndex];
      if (rule && used[ruleIndex]! < rule.maxAttempts) {
        const interval = rule.intervalSeconds * rule.backoffRate ** used[ruleIndex]!;
        used[ruleIndex]!++;
        run.retryCount++;
        await env.sleep(Math.min(interval, rule.maxBackoffSeconds ?? Infinity) * 1000, signal);
        continue;
      }
      const handler = state.catch.find((c) => matches(c.errors, failure.code));
      if (!handler) throw failure;
      // Inferred (as ASL does): without an OutputConstructor the fallback state receives the error itself.
      const error = { Code: failure.code, Detail: failure.detail };
      const output = handler.output ? await render(env, handler.output, scopeOf(env, run, input, { Output: error, Error: error })) : error;
      return { caught: true, output, next: handler.next };
    }
  }
}

function matches(errors: string[], code: string): boolean {
  return errors.includes(ErrorNames.All) || errors.includes(code);
}

async function runTask(env: RunEnvironment, state: TaskState, run: StateRun, input: unknown, signal: AbortSignal): Promise<unknown> {
  const scope = scopeOf(env, run, input);
  const parameters = state.parameters ? await render(env, state.parameters, scope) : input;
  const timeoutSeconds = state.timeout === undefined ? 0 : await resolveSeconds(env, state.timeout, scope, 'Timeout', 0, Infinity);

  const task = new AbortController();
  const unlink = link(signal, task);
  try {
    const call = callAction(env, state, parameters, run.retryCount, task.signal);
    if (timeoutSeconds === 0) return await call;
    const timer = env.sleep(timeoutSeconds * 1000, task.signal).then(() => {
      const timeout = new StateFailure(ErrorNames.Timeout, `Task "${state.name}" did not finish within ${timeoutSeconds} s`);
      task.abort(timeout);
      throw timeout;
    });
    return await Promise.race([call, timer]);
  } finally {
    unlink();
    if (!task.signal.aborted) task.abort(new ExecutionInterrupt('finished', 'the task finished'));
  }
}

async function callAction(env: RunEnvironment, state: TaskState, parameters: unknown, retryCount: number, signal: AbortSignal): Promise<unknown> {
  if (state.action === HTTP_REQUEST_ACTION && env.fetch) return runHttpRequest(parameters, env.fetch, signal, env.maxDepth);
  const handler = env.handlers[localHandlerName(state.action) ?? ''];
  // The engine checks every Action before starting, so this only guards against a registry changed mid-run.
  if (!handler) throw new StateFailure(ErrorNames.ActionNotSupported, `no handler for Action "${state.action}"`);
  const context: TaskContext = {
    executionName: env.execution.name,
    flowName: env.execution.flowName,
    stateName: state.name,
    retryCount,
    signal,
    now: () => env.clock.now(),
    sleep: (ms) => env.sleep(ms, signal),
  };
  // A copy: whatever the handler does to its input stays out of the execution's own values.
  const result = await handler(toHandlerValue(parameters, env.maxDepth), context);
  return handlerResult(env, result, state.name);
}

async function runParallel(env: RunEnvironment, state: ParallelState, input: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
  const outputs = await runConcurrently(state.branches.length, state.branches.length, signal, (i, branchSignal) =>
    runScope(env, state.branches[i]!, input, branchSignal),
  );
  return Object.fromEntries(outputs.map((output, i) => [`Branch${i}`, output]));
}

async function runMap(env: RunEnvironment, state: MapState, run: StateRun, input: unknown, signal: AbortSignal): Promise<{ Items: unknown[] }> {
  const items = await evaluate(env, state.itemsPath, scopeOf(env, run, input));
  if (!Array.isArray(items)) {
    throw new StateFailure(
      ErrorNames.RuntimeError,
      `ItemsPath ${JSON.stringify(state.itemsPath.source)} of Map "${state.name}" must yield an array, got ${shortJson(items)}`,
    );
  }
  // Each item is the input of its own processor run, and state inputs are JSON objects (CloudFlow FDL, "Input and output").
  const notObject = items.findIndex((item) => !isObject(item));
  if (notObject !== -1) {
    throw new StateFailure(
      ErrorNames.RuntimeError,
      `ItemsPath ${JSON.stringify(state.itemsPath.source)} of Map "${state.name}" must yield an array of objects, but item ${notObject} is ${shortJson(items[notObject])}`,
    );
  }
  const outputs = await runConcurrently(items.length, state.maxConcurrency, signal, (i, itemSignal) => runScope(env, state.processor, items[i], itemSignal));
  return { Items: outputs };
}

/**
 * Runs `count` jobs with at most `limit` in flight, keeping result order. The first failure cancels the rest
 * and is what the caller sees (later, cancellation-induced failures are ignored).
 */
async function runConcurrently(
  count: number,
  limit: number,
  signal: AbortSignal,
  job: (index: number, signal: AbortSignal) => Promise<unknown>,
): Promise<unknown[]> {
  const group = new AbortController();
  const unlink = link(signal, group);
  const results: unknown[] = new Array(count);
  let nextIndex = 0;
  let failed = false;
  let firstFailure: unknown;
  const worker = async () => {
    while (nextIndex < count && !failed) {
      const i = nextIndex++;
      try {
        results[i] = await job(i, group.signal);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstFailure = error;
          group.abort(new ExecutionInterrupt('cancelled', 'a sibling branch failed'));
        }
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  } finally {
    unlink();
  }
  if (failed) throw firstFailure;
  return results;
}

/** Propagates an abort from `parent` to `child`; returns the unsubscribe. */
function link(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => undefined;
  }
  const forward = () => child.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  return () => parent.removeEventListener('abort', forward);
}

async function resolveSeconds(
  env: RunEnvironment,
  value: number | CompiledExpression,
  scope: ExpressionScope,
  field: string,
  min: number,
  max: number,
): Promise<number> {
  if (typeof value === 'number') return value;
  const result = await evaluate(env, value, scope);
  const seconds = isNumeric(result) ? toDouble(result) : undefined;
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < min || seconds > max) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new StateFailure(ErrorNames.RuntimeError, `${field}.$ must yield a whole number of seconds ${range}, got ${shortJson(result)}`);
  }
  return seconds;
}

function evaluate(env: RunEnvironment, expression: CompiledExpression, scope: ExpressionScope): Promise<unknown> {
  return evaluateExpression(expression, scope, env.builtins);
}

function render(env: RunEnvironment, template: Template, scope: ExpressionScope): Promise<unknown> {
  return renderTemplate(template, scope, env.builtins);
}

/**
 * A handler's result as an engine value (plain JSON, numbers exact, no shared references); nothing returned means
 * `{}`. Too large or too deep (or containing itself) is the state data limit.
 */
function handlerResult(env: RunEnvironment, value: unknown, stateName: string): unknown {
  if (value === undefined) return {};
  try {
    return fromHandlerValue(value, { maxDepth: env.maxDepth, maxBytes: env.maxStateBytes });
  } catch (error) {
    if (error instanceof JsonDepthError || error instanceof JsonSizeError) {
      throw new StateFailure(
        ErrorNames.DataLimitExceeded,
        `Task "${stateName}" returned a value ${error.message}${error instanceof JsonDepthError ? ' (or one that contains itself)' : ''}`,
      );
    }
    throw new StateFailure(ErrorNames.RuntimeError, `Task "${stateName}" returned a value that is not JSON: ${(error as Error).message}`);
  }
}

/** The documented 64 KiB limit on a state's output (which is the next state's input), and the nesting limit. */
function checkData(env: RunEnvironment, what: string, value: unknown): unknown {
  checkDepth(env, what, value);
  const bytes = utf8(stringifyExact(value)).length;
  if (bytes > env.maxStateBytes) throw new StateFailure(ErrorNames.DataLimitExceeded, `${what} is ${bytes} bytes, over the ${env.maxStateBytes}-byte limit`);
  return value;
}

function checkDepth(env: RunEnvironment, what: string, value: unknown): void {
  if (depthOf(value, env.maxDepth) > env.maxDepth) {
    throw new StateFailure(ErrorNames.DataLimitExceeded, `${what} is nested deeper than the ${env.maxDepth}-level limit`);
  }
}

/** A value for an error message, cut short. */
function shortJson(value: unknown): string {
  const text = stringifyExact(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
