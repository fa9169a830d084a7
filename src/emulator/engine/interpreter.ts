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
import type { BuiltinEnvironment } from './expression/builtins.js';
import { evaluateExpression, truthy, type ExpressionScope } from './expression/evaluate.js';
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
  execution: { name: string; flowName: string; input: unknown };
  /** `$Global`: shared by every scope of the execution (Parallel branches and Map iterations may race on it). */
  global: Record<string, unknown>;
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
  const scopeFor = (input: unknown, current: Record<string, unknown> = {}): ExpressionScope => ({
    Input: input,
    Context: contextObject(env, state.name, input, current),
    Global: env.global,
  });
  const input = state.input ? await render(env, state.input, scopeFor(rawInput)) : rawInput;

  let result: unknown = input;
  switch (state.type) {
    case 'Choice':
      return { output: input, next: await choose(env, state, scopeFor(input)) };
    case 'Fail':
      // Raised like `throw`: an enclosing Parallel/Map may Retry/Catch it; otherwise it fails the execution.
      throw new StateFailure(state.code ?? ErrorNames.Failed, state.detail ?? '');
    case 'Wait': {
      const seconds = await resolveSeconds(env, state.seconds, scopeFor(input), 'Seconds', 0, WAIT_LIMIT_SECONDS[env.mode]);
      await env.sleep(seconds * 1000, signal);
      break;
    }
    case 'Task':
    case 'Parallel':
    case 'Map': {
      const outcome = await withErrorHandling(env, state, input, signal, (retryCount) => act(env, state, input, retryCount, signal));
      if (outcome.caught) return { output: checkSize(env, state.name, outcome.output), next: outcome.next };
      result = outcome.value;
      break;
    }
    case 'Pass':
    case 'Succeed':
      break;
  }

  const output = state.output ? await render(env, state.output, { ...scopeFor(input, { Output: result }), Output: result }) : result;
  if (state.global) {
    const updates = await render(env, state.global, { ...scopeFor(input, { Output: result }), Output: result });
    Object.assign(env.global, updates);
  }
  return { output: checkSize(env, state.name, output), next: state.type === 'Succeed' ? undefined : state.next };
}

function act(env: RunEnvironment, state: TaskState | ParallelState | MapState, input: unknown, retryCount: number, signal: AbortSignal): Promise<unknown> {
  switch (state.type) {
    case 'Task':
      return runTask(env, state, input, retryCount, signal);
    case 'Parallel':
      return runParallel(env, state, input, signal);
    case 'Map':
      return runMap(env, state, input, signal);
  }
}

/** The `$Context` object (CloudFlow FDL, "Input and output"); `Flow.Name` is an addition of this engine. */
function contextObject(env: RunEnvironment, stateName: string, input: unknown, current: Record<string, unknown>): Record<string, unknown> {
  return {
    Execution: { Name: env.execution.name, Input: env.execution.input, RoleArn: '' },
    Flow: { Name: env.execution.flowName },
    Current: { Name: stateName, Input: input, RetryCount: 0, ...current },
  };
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
  input: unknown,
  signal: AbortSignal,
  attempt: (retryCount: number) => Promise<unknown>,
): Promise<Outcome> {
  const used = state.retry.map(() => 0);
  let retryCount = 0;
  for (;;) {
    try {
      return { caught: false, value: await attempt(retryCount) };
    } catch (thrown) {
      // The whole execution is over (timeout, stop, a failed sibling): nothing here may catch that.
      if (signal.aborted) throw signal.reason;
      const failure = toStateFailure(thrown);
      const ruleIndex = state.retry.findIndex((rule) => matches(rule.errors, failure.code));
      const rule = state.retry[ruleIndex];
      if (rule && used[ruleIndex]! < rule.maxAttempts) {
        const interval = rule.intervalSeconds * rule.backoffRate ** used[ruleIndex]!;
        used[ruleIndex]!++;
        retryCount++;
        await env.sleep(Math.min(interval, rule.maxBackoffSeconds ?? Infinity) * 1000, signal);
        continue;
      }
      const handler = state.catch.find((c) => matches(c.errors, failure.code));
      if (!handler) throw failure;
      // Inferred (as ASL does): without an OutputConstructor the fallback state receives the error itself.
      const error = { Code: failure.code, Detail: failure.detail };
      const output = handler.output
        ? await render(env, handler.output, {
            Input: input,
            Output: error,
            Context: contextObject(env, state.name, input, { Error: error, RetryCount: retryCount }),
            Global: env.global,
          })
        : error;
      return { caught: true, output, next: handler.next };
    }
  }
}

function matches(errors: string[], code: string): boolean {
  return errors.includes(ErrorNames.All) || errors.includes(code);
}

async function runTask(env: RunEnvironment, state: TaskState, input: unknown, retryCount: number, signal: AbortSignal): Promise<unknown> {
  const current = { RetryCount: retryCount };
  const scope: ExpressionScope = { Input: input, Context: contextObject(env, state.name, input, current), Global: env.global };
  const parameters = state.parameters ? await render(env, state.parameters, scope) : input;
  const timeoutSeconds = state.timeout === undefined ? 0 : await resolveSeconds(env, state.timeout, scope, 'Timeout', 0, Infinity);

  const task = new AbortController();
  const unlink = link(signal, task);
  try {
    const call = callAction(env, state, parameters, retryCount, task.signal);
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
  if (state.action === HTTP_REQUEST_ACTION && env.fetch) return runHttpRequest(parameters, env.fetch, signal);
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
  const result = await handler(parameters, context);
  return toJsonValue(result, state.name);
}

async function runParallel(env: RunEnvironment, state: ParallelState, input: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
  const outputs = await runConcurrently(state.branches.length, state.branches.length, signal, (i, branchSignal) =>
    runScope(env, state.branches[i]!, input, branchSignal),
  );
  return Object.fromEntries(outputs.map((output, i) => [`Branch${i}`, output]));
}

async function runMap(env: RunEnvironment, state: MapState, input: unknown, signal: AbortSignal): Promise<{ Items: unknown[] }> {
  const scope: ExpressionScope = { Input: input, Context: contextObject(env, state.name, input, {}), Global: env.global };
  const items = await evaluate(env, state.itemsPath, scope);
  if (!Array.isArray(items)) {
    throw new StateFailure(
      ErrorNames.RuntimeError,
      `ItemsPath ${JSON.stringify(state.itemsPath.source)} of Map "${state.name}" must yield an array, got ${JSON.stringify(items)}`,
    );
  }
  // Each item is the input of its own processor run (inferred: items need not be maps).
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
  const seconds = await evaluate(env, value, scope);
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < min || seconds > max) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new StateFailure(ErrorNames.RuntimeError, `${field}.$ must yield a number of seconds ${range}, got ${JSON.stringify(seconds)}`);
  }
  return seconds;
}

function evaluate(env: RunEnvironment, expression: CompiledExpression, scope: ExpressionScope): Promise<unknown> {
  return evaluateExpression(expression, scope, env.builtins);
}

function render(env: RunEnvironment, template: Template, scope: ExpressionScope): Promise<unknown> {
  return renderTemplate(template, scope, env.builtins);
}

/** Handler results become plain JSON (dates to strings, no shared references); nothing returned means `{}`. */
function toJsonValue(value: unknown, stateName: string): unknown {
  if (value === undefined) return {};
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (error) {
    throw new StateFailure(ErrorNames.RuntimeError, `Task "${stateName}" returned a value that is not JSON: ${(error as Error).message}`);
  }
}

/** The documented 64 KiB limit on a state's output (which is the next state's input). */
function checkSize(env: RunEnvironment, stateName: string, value: unknown): unknown {
  const bytes = utf8(JSON.stringify(value) ?? 'null').length;
  if (bytes > env.maxStateBytes) {
    throw new StateFailure(ErrorNames.DataLimitExceeded, `the output of state "${stateName}" is ${bytes} bytes, over the ${env.maxStateBytes}-byte limit`);
  }
  return value;
}
