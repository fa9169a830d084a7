/**
 * Loads an FDL definition (`Type: StateMachine`, `SpecVersion: v1`, YAML or JSON) and validates all of it up
 * front: structure, field types, `Next` targets, expressions and constructors. Anything wrong throws a
 * `FlowDefinitionError` naming the state, so a bad flow is refused when it is registered, never mid-run.
 *
 * Unknown fields are rejected too, with a hint when they look like AWS Step Functions (ASL) spellings, because a
 * typo'd field would otherwise be silently ignored.
 */
import { parse as parseYaml } from 'yaml';
import { compileConstructor, compileExpression, TemplateError, templateVariables, type Template } from './constructor.js';
import type { CatchRule, ExecutionMode, FlowDefinition, RetryRule, Scope, State, StateType } from './definition.js';
import { FlowDefinitionError } from './errors.js';
import type { CompiledExpression, Variable } from './expression/ast.js';
import { isObject } from './expression/values.js';
import { depthOf } from './json.js';

export interface LoadOptions {
  /** The `ExecutionMode` the flow is registered with (CreateFlow). Must agree with the definition's, if any. */
  executionMode?: ExecutionMode;
  /** The flow name it is registered under. Must agree with the definition's `Name`, if any. */
  name?: string;
}

/**
 * The deepest a definition document may nest. Loading and running walk it recursively (constructors, nested
 * Parallel and Map scopes); a flow needs a few dozen levels at most, and this keeps every such walk far from the
 * stack's end. Not a documented CloudFlow limit: the emulator's own.
 */
export const MAX_DEFINITION_DEPTH = 100;

/** The documented limits: CloudFlow "Limits" (branches, concurrency) and the state pages (Wait seconds, Task and Retry times). */
const LIMITS = {
  parallelBranches: 50,
  mapConcurrency: 40,
  waitSeconds: { Express: 20, Standard: 300 },
  taskTimeoutSeconds: 604_800,
  retrySeconds: 86_400,
} as const;

const STATE_TYPES: ReadonlySet<string> = new Set<StateType>(['Pass', 'Choice', 'Succeed', 'Fail', 'Wait', 'Parallel', 'Map', 'Task']);
const TASK_MODES = new Set(['RequestComplete', 'WaitForCustomCallback', 'WaitForSystemCallback']);

const COMMON_FIELDS = ['Name', 'Type', 'Description', 'Next', 'End', 'InputConstructor', 'OutputConstructor', 'GlobalConstructor'];
const FIELDS: Record<StateType, readonly string[]> = {
  Pass: COMMON_FIELDS,
  Succeed: COMMON_FIELDS,
  Fail: [...COMMON_FIELDS, 'Code', 'Detail'],
  Wait: [...COMMON_FIELDS, 'Seconds', 'Seconds.$'],
  // The Choice documentation lists only InputConstructor for Choice, and no Next/End.
  Choice: ['Name', 'Type', 'Description', 'InputConstructor', 'Branches', 'Default'],
  Task: [...COMMON_FIELDS, 'Action', 'TaskMode', 'Parameters', 'Timeout', 'Timeout.$', 'Retry', 'Catch'],
  Parallel: [...COMMON_FIELDS, 'Branches', 'Retry', 'Catch'],
  Map: [...COMMON_FIELDS, 'ItemsPath', 'Processor', 'MaxConcurrency', 'MaxConcuccency', 'Retry', 'Catch'],
};
const TOP_LEVEL_FIELDS = ['Type', 'SpecVersion', 'Name', 'Description', 'StartAt', 'States', 'Timeout', 'ExecutionMode'];

/** Hints for fields that come from other workflow languages. */
const FIELD_HINTS: Record<string, string> = {
  Choices: 'Choice uses Branches (each with Condition and Next)',
  Error: 'Fail uses Code',
  Cause: 'Fail uses Detail',
  ErrorEquals: 'Retry and Catch use Errors',
  Resource: 'Task uses Action',
  Iterator: 'Map uses Processor',
  ItemProcessor: 'Map uses Processor',
  InputPath: 'use InputConstructor',
  ResultPath: 'use OutputConstructor',
  OutputPath: 'use OutputConstructor',
  ResultSelector: 'use OutputConstructor',
  TimeoutSeconds: 'use Timeout',
  OnErrors: 'the OnErrors syntax is superseded; use Retry and Catch',
};

export function loadFlowDefinition(source: string | Record<string, unknown>, options: LoadOptions = {}): FlowDefinition {
  const doc = typeof source === 'string' ? parseDocument(source) : source;
  if (!isObject(doc)) throw new FlowDefinitionError('the definition must be a map');
  if (depthOf(doc, MAX_DEFINITION_DEPTH) > MAX_DEFINITION_DEPTH)
    throw new FlowDefinitionError(`the definition is nested more than ${MAX_DEFINITION_DEPTH} levels deep`);
  if (doc['type'] === 'flow' || 'steps' in doc) {
    throw new FlowDefinitionError('unsupported: the legacy `type: flow` spec is not supported; use Type: StateMachine, SpecVersion: v1');
  }
  if (doc['Type'] !== 'StateMachine') throw new FlowDefinitionError(`Type must be "StateMachine", got ${describe(doc['Type'])}`);
  if (doc['SpecVersion'] !== 'v1') throw new FlowDefinitionError(`SpecVersion must be "v1", got ${describe(doc['SpecVersion'])}`);
  rejectUnknownFields(doc, TOP_LEVEL_FIELDS, 'the definition');

  const name = optionalString(doc, 'Name');
  if (options.name !== undefined && name !== undefined && name !== options.name) {
    throw new FlowDefinitionError(`Name "${name}" does not match the flow name "${options.name}"`);
  }
  const mode = resolveMode(doc['ExecutionMode'], options.executionMode);

  let timeoutSeconds: number | undefined;
  if (doc['Timeout'] !== undefined) {
    if (!isPositiveInteger(doc['Timeout']))
      throw new FlowDefinitionError(`Timeout must be a positive whole number of seconds, got ${describe(doc['Timeout'])}`);
    timeoutSeconds = doc['Timeout'];
  }

  const actions = new Set<string>();
  const scope = loadScope(doc, 'the flow', { mode, actions });
  return {
    ...(name === undefined ? {} : { name }),
    ...(typeof doc['Description'] === 'string' ? { description: doc['Description'] } : {}),
    mode,
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    scope,
    actions: [...actions],
    raw: doc,
  };
}

function parseDocument(text: string): unknown {
  if (text.trim() === '') throw new FlowDefinitionError('the definition is empty');
  try {
    // YAML is a superset of JSON, but JSON.parse gives clearer messages for JSON input (and never recurses).
    return text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // The YAML parser recurses over nesting; a document deep enough to exhaust the stack is refused as such.
    if (error instanceof RangeError) throw new FlowDefinitionError(`the definition is nested more than ${MAX_DEFINITION_DEPTH} levels deep`);
    throw new FlowDefinitionError(`the definition is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}

function resolveMode(declared: unknown, registered: ExecutionMode | undefined): ExecutionMode {
  if (declared !== undefined && declared !== 'Express' && declared !== 'Standard' && declared !== '') {
    throw new FlowDefinitionError(`ExecutionMode must be "Express" or "Standard", got ${describe(declared)}`);
  }
  const fromDefinition = declared === '' ? 'Standard' : (declared as ExecutionMode | undefined);
  if (registered !== undefined && fromDefinition !== undefined && registered !== fromDefinition) {
    throw new FlowDefinitionError(`ExecutionMode "${fromDefinition}" in the definition conflicts with "${registered}"`);
  }
  return registered ?? fromDefinition ?? 'Standard';
}

interface LoadContext {
  mode: ExecutionMode;
  actions: Set<string>;
}

/** Loads `{StartAt, States}`; `owner` names the scope in messages ("the flow", "Parallel1 branch 0"). */
function loadScope(raw: Record<string, unknown>, owner: string, ctx: LoadContext): Scope {
  const startAt = raw['StartAt'];
  if (typeof startAt !== 'string' || startAt === '') throw new FlowDefinitionError(`${owner} requires StartAt`);
  const list = raw['States'];
  if (!Array.isArray(list) || list.length === 0) throw new FlowDefinitionError(`${owner} requires a non-empty States list`);

  const states = new Map<string, State>();
  for (const [i, entry] of list.entries()) {
    if (!isObject(entry)) throw new FlowDefinitionError(`States[${i}] of ${owner} must be a map`);
    const name = entry['Name'];
    if (typeof name !== 'string' || name === '') throw new FlowDefinitionError(`States[${i}] of ${owner} requires a Name`);
    if (states.has(name)) throw new FlowDefinitionError(`the name is used twice in ${owner}`, name);
    states.set(name, loadState(entry, name, ctx));
  }
  if (!states.has(startAt)) throw new FlowDefinitionError(`StartAt "${startAt}" of ${owner} is not a state in that scope`);

  // Transitions stay inside their scope: Next, Choice targets and Catch targets.
  for (const state of states.values()) {
    const targets: Array<[string, string]> = [];
    if (state.next !== undefined) targets.push(['Next', state.next]);
    if (state.type === 'Choice') {
      state.branches.forEach((b, i) => targets.push([`Branches[${i}].Next`, b.next]));
      targets.push(['Default', state.default]);
    }
    if ('catch' in state) state.catch.forEach((c, i) => targets.push([`Catch[${i}].Next`, c.next]));
    for (const [field, target] of targets) {
      if (!states.has(target)) throw new FlowDefinitionError(`${field} "${target}" is not a state in ${owner}`, state.name);
    }
  }
  return { startAt, states };
}

function loadState(raw: Record<string, unknown>, name: string, ctx: LoadContext): State {
  const fail = (message: string): never => {
    throw new FlowDefinitionError(message, name);
  };
  const type = raw['Type'];
  if (typeof type !== 'string' || !STATE_TYPES.has(type)) {
    return fail(`unknown state type ${describe(type)} (expected one of ${[...STATE_TYPES].join(', ')})`);
  }
  const stateType = type as StateType;
  try {
    rejectUnknownFields(raw, FIELDS[stateType], `${stateType}`);
  } catch (error) {
    return fail((error as Error).message);
  }

  try {
    const common = {
      name,
      ...transition(raw, stateType, fail),
      ...constructorField(raw, 'InputConstructor', 'input', ['Input', 'Context', 'Global']),
      ...constructorField(raw, 'OutputConstructor', 'output', ['Input', 'Output', 'Context', 'Global']),
      ...constructorField(raw, 'GlobalConstructor', 'global', ['Input', 'Output', 'Context', 'Global']),
    };
    switch (stateType) {
      case 'Pass':
      case 'Succeed':
        return { type: stateType, ...common };
      case 'Fail':
        return {
          type: 'Fail',
          ...common,
          ...(raw['Code'] === undefined ? {} : { code: requireString(raw, 'Code', fail) }),
          ...(raw['Detail'] === undefined ? {} : { detail: requireString(raw, 'Detail', fail) }),
        };
      case 'Wait':
        return { type: 'Wait', ...common, seconds: waitSeconds(raw, ctx.mode, fail) };
      case 'Choice':
        return loadChoice(raw, common, fail);
      case 'Task':
        return loadTask(raw, common, ctx, fail);
      case 'Parallel': {
        const branches = raw['Branches'];
        if (!Array.isArray(branches) || branches.length === 0) return fail('Parallel requires Branches');
        if (branches.length > LIMITS.parallelBranches) return fail(`Parallel allows at most ${LIMITS.parallelBranches} Branches, got ${branches.length}`);
        return {
          type: 'Parallel',
          ...common,
          branches: branches.map((b, i) =>
            isObject(b) ? loadScope(b, `${name} branch ${i}`, ctx) : fail(`Branches[${i}] must be a map with StartAt and States`),
          ),
          ...errorHandling(raw, fail),
        };
      }
      case 'Map':
        return loadMap(raw, common, ctx, fail);
    }
  } catch (error) {
    if (error instanceof TemplateError) return fail(error.message);
    // Problems found in nested parts (Retry rules, branches) get this state's name when they have none.
    if (error instanceof FlowDefinitionError && error.stateName === undefined) return fail(error.message);
    throw error;
  }
}

function transition(raw: Record<string, unknown>, type: StateType, fail: (m: string) => never): { next?: string } {
  const next = raw['Next'];
  const end = raw['End'];
  if (end !== undefined && typeof end !== 'boolean') fail(`End must be true or false, got ${describe(end)}`);
  if (type === 'Choice') return {};
  if (type === 'Succeed' || type === 'Fail') {
    // Both end their scope by definition; the docs' own Fail example carries `End: true`, so that is accepted.
    if (next !== undefined) fail(`${type} ends its scope and cannot have Next`);
    return {};
  }
  if (next !== undefined && typeof next !== 'string') fail(`Next must be a state name, got ${describe(next)}`);
  if (next !== undefined && end === true) fail('has both Next and End: true; use one');
  if (next === undefined && end !== true) fail('needs Next or End: true');
  return next === undefined ? {} : { next: next as string };
}

function loadChoice(raw: Record<string, unknown>, common: Record<string, unknown> & { name: string }, fail: (m: string) => never): State {
  const branches = raw['Branches'];
  if (!Array.isArray(branches) || branches.length === 0) return fail('Choice requires Branches');
  const defaultTarget = raw['Default'];
  if (typeof defaultTarget !== 'string' || defaultTarget === '') return fail('Choice requires Default');
  return {
    ...(common as { name: string }),
    type: 'Choice',
    default: defaultTarget,
    branches: branches.map((b, i) => {
      if (!isObject(b)) return fail(`Branches[${i}] must be a map with Condition and Next`);
      rejectUnknownFields(b, ['Condition', 'Next', 'Description'], `Branches[${i}]`);
      if (b['Condition'] === undefined) return fail(`Branches[${i}] requires a Condition`);
      if (typeof b['Next'] !== 'string') return fail(`Branches[${i}] requires a Next`);
      // YAML reads a bare `true`/`false` condition as a boolean.
      const source = typeof b['Condition'] === 'boolean' ? String(b['Condition']) : b['Condition'];
      const condition = expression(source, `Branches[${i}].Condition`, ['Input', 'Context', 'Global']);
      return { condition, next: b['Next'] };
    }),
  };
}

function loadTask(raw: Record<string, unknown>, common: Record<string, unknown> & { name: string }, ctx: LoadContext, fail: (m: string) => never): State {
  const action = raw['Action'];
  if (typeof action !== 'string' || action === '') return fail('Task requires Action');
  if (!/^[A-Za-z][\w-]*:[^\s:][^\s]*$/.test(action))
    return fail(`Action must look like <Service>:<API> (e.g. HTTP:Request or Local:myHandler), got "${action}"`);
  ctx.actions.add(action);
  const taskMode = raw['TaskMode'];
  if (taskMode !== undefined && (typeof taskMode !== 'string' || !TASK_MODES.has(taskMode))) {
    return fail(`TaskMode must be one of ${[...TASK_MODES].join(', ')}, got ${describe(taskMode)}`);
  }
  if (ctx.mode === 'Express' && taskMode !== undefined && taskMode !== 'RequestComplete') {
    return fail(`TaskMode ${taskMode} is not available in Express mode (only RequestComplete)`);
  }
  let timeout: number | CompiledExpression | undefined;
  if (raw['Timeout'] !== undefined && raw['Timeout.$'] !== undefined) return fail('set Timeout or Timeout.$, not both');
  if (raw['Timeout'] !== undefined) {
    const t = raw['Timeout'];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > LIMITS.taskTimeoutSeconds) {
      return fail(`Timeout must be a whole number of seconds from 0 to ${LIMITS.taskTimeoutSeconds}, got ${describe(t)}`);
    }
    timeout = t;
  } else if (raw['Timeout.$'] !== undefined) {
    timeout = expression(raw['Timeout.$'], 'Timeout.$', ['Input', 'Context', 'Global']);
  }
  return {
    ...(common as { name: string }),
    type: 'Task',
    action,
    ...constructorField(raw, 'Parameters', 'parameters', ['Input', 'Context', 'Global']),
    ...(timeout === undefined ? {} : { timeout }),
    ...errorHandling(raw, fail),
  };
}

function loadMap(raw: Record<string, unknown>, common: Record<string, unknown> & { name: string }, ctx: LoadContext, fail: (m: string) => never): State {
  if (raw['ItemsPath'] === undefined) return fail('Map requires ItemsPath');
  const itemsPath = expression(raw['ItemsPath'], 'ItemsPath', ['Input', 'Context', 'Global']);
  const processor = raw['Processor'];
  if (!isObject(processor)) return fail('Map requires Processor (a map with StartAt and States)');
  // The docs spell it MaxConcuccency; the natural spelling is accepted too, but not both at once.
  if (raw['MaxConcurrency'] !== undefined && raw['MaxConcuccency'] !== undefined) return fail('set MaxConcurrency or MaxConcuccency, not both');
  const concurrency = raw['MaxConcurrency'] ?? raw['MaxConcuccency'];
  if (concurrency !== undefined && (!isPositiveInteger(concurrency) || concurrency > LIMITS.mapConcurrency)) {
    return fail(`MaxConcurrency must be a whole number from 1 to ${LIMITS.mapConcurrency}, got ${describe(concurrency)}`);
  }
  return {
    ...(common as { name: string }),
    type: 'Map',
    itemsPath,
    processor: loadScope(processor, `${common.name} processor`, ctx),
    // Without a value the documented ceiling applies (inferred default).
    maxConcurrency: (concurrency as number | undefined) ?? LIMITS.mapConcurrency,
    ...errorHandling(raw, fail),
  };
}

function waitSeconds(raw: Record<string, unknown>, mode: ExecutionMode, fail: (m: string) => never): number | CompiledExpression {
  const literal = raw['Seconds'];
  const dynamic = raw['Seconds.$'];
  if (literal !== undefined && dynamic !== undefined) return fail('set Seconds or Seconds.$, not both');
  if (dynamic !== undefined) return expression(dynamic, 'Seconds.$', ['Input', 'Context', 'Global']);
  if (literal === undefined) return fail('Wait requires Seconds (or Seconds.$)');
  const max = LIMITS.waitSeconds[mode];
  if (!isPositiveInteger(literal) || literal > max) return fail(`Seconds must be a whole number from 1 to ${max} in ${mode} mode, got ${describe(literal)}`);
  return literal;
}

function errorHandling(raw: Record<string, unknown>, fail: (m: string) => never): { retry: RetryRule[]; catch: CatchRule[] } {
  const retry = listField(raw, 'Retry', fail).map((rule, i): RetryRule => {
    const at = `Retry[${i}]`;
    rejectUnknownFields(rule, ['Errors', 'Description', 'MaxAttempts', 'IntervalSeconds', 'BackoffRate', 'MaxBackoffSeconds'], at);
    const { MaxAttempts: maxAttempts, IntervalSeconds: interval, BackoffRate: backoff, MaxBackoffSeconds: maxBackoff } = rule;
    if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 0)
      fail(`${at}.MaxAttempts must be a whole number ≥ 0, got ${describe(maxAttempts)}`);
    if (typeof interval !== 'number' || interval < 0 || interval > LIMITS.retrySeconds)
      fail(`${at}.IntervalSeconds must be from 0 to ${LIMITS.retrySeconds}, got ${describe(interval)}`);
    // Peer-consistent (ASL): a rate below 1 would shrink the interval on each attempt.
    if (backoff !== undefined && (typeof backoff !== 'number' || backoff < 1)) fail(`${at}.BackoffRate must be a number ≥ 1, got ${describe(backoff)}`);
    if (maxBackoff !== undefined && (typeof maxBackoff !== 'number' || maxBackoff <= 0 || maxBackoff > LIMITS.retrySeconds)) {
      fail(`${at}.MaxBackoffSeconds must be from 1 to ${LIMITS.retrySeconds}, got ${describe(maxBackoff)}`);
    }
    return {
      errors: errorsField(rule, at, fail),
      maxAttempts: maxAttempts as number,
      intervalSeconds: interval as number,
      backoffRate: (backoff as number | undefined) ?? 1,
      ...(maxBackoff === undefined ? {} : { maxBackoffSeconds: maxBackoff as number }),
    };
  });
  const catchRules = listField(raw, 'Catch', fail).map((rule, i): CatchRule => {
    const at = `Catch[${i}]`;
    rejectUnknownFields(rule, ['Errors', 'Description', 'Next', 'OutputConstructor'], at);
    if (typeof rule['Next'] !== 'string' || rule['Next'] === '') fail(`${at} requires Next`);
    const output = constructorField(rule, 'OutputConstructor', 'output', ['Input', 'Output', 'Context', 'Global'], `${at}.`);
    return { errors: errorsField(rule, at, fail), next: rule['Next'] as string, ...output };
  });
  return { retry, catch: catchRules };
}

function listField(raw: Record<string, unknown>, field: string, fail: (m: string) => never): Array<Record<string, unknown>> {
  const value = raw[field];
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail(`${field} must be a list`);
  return value.map((rule, i) => (isObject(rule) ? rule : fail(`${field}[${i}] must be a map`)));
}

function errorsField(rule: Record<string, unknown>, at: string, fail: (m: string) => never): string[] {
  const errors = rule['Errors'];
  if (!Array.isArray(errors) || errors.length === 0 || !errors.every((e) => typeof e === 'string' && e !== '')) {
    return fail(`${at}.Errors must be a non-empty list of error names`);
  }
  return errors as string[];
}

/** Compiles an optional constructor, checking it only reads variables that exist where it runs. */
function constructorField<K extends string>(
  raw: Record<string, unknown>,
  field: string,
  key: K,
  allowed: Variable[],
  prefix = '',
): Partial<Record<K, Template>> {
  if (raw[field] === undefined) return {};
  const template = compileConstructor(raw[field], `${prefix}${field}`);
  for (const variable of templateVariables(template)) {
    if (!allowed.includes(variable)) throw new TemplateError(`${prefix}${field} reads $${variable}, which is only available in OutputConstructor`);
  }
  return { [key]: template } as Partial<Record<K, Template>>;
}

function expression(source: unknown, label: string, allowed: Variable[]): CompiledExpression {
  const compiled = compileExpression(source, label);
  for (const variable of compiled.variables) {
    if (!allowed.includes(variable)) throw new TemplateError(`${label} reads $${variable}, which is only available in OutputConstructor`);
  }
  return compiled;
}

function rejectUnknownFields(raw: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const hint = FIELD_HINTS[key];
    throw new FlowDefinitionError(`${where} has an unknown field "${key}"${hint ? ` (${hint})` : ''}`);
  }
}

function requireString(raw: Record<string, unknown>, field: string, fail: (m: string) => never): string {
  const value = raw[field];
  return typeof value === 'string' ? value : fail(`${field} must be a string, got ${describe(value)}`);
}

function optionalString(raw: Record<string, unknown>, field: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new FlowDefinitionError(`${field} must be a non-empty string`);
  return value;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
