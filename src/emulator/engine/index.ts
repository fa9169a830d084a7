/**
 * The CloudFlow FDL execution engine used by the local emulator: load a definition, then execute it.
 *
 *   const flow = loadFlowDefinition(yamlText, { executionMode: 'Express' });
 *   const engine = createEngine({ handlers: { greet: (input) => ({ hi: input }) }, fetch, ...virtualTime() });
 *   const result = await engine.execute(flow, { name: 'Ada' }, { executionName: 'e1' });
 *
 * Pure Web-standard TypeScript: no Node imports, no timers outside the injected sleep.
 */
export { loadFlowDefinition, type LoadOptions } from './load.js';
export {
  createEngine,
  EXPRESS_MAX_DURATION_MS,
  MAX_STATE_BYTES,
  type Engine,
  type EngineOptions,
  type ExecuteOptions,
  type ExecutionResult,
  type ExecutionStatus,
} from './engine.js';
export type { ExecutionMode, FlowDefinition, Scope, State, StateType } from './definition.js';
export { FlowDefinitionError, StateFailure, ErrorNames } from './errors.js';
export { LOCAL_SERVICE, localHandlerName, type TaskContext, type TaskHandler, type TaskHandlers } from './local-task.js';
export { HTTP_REQUEST_ACTION, type HttpTaskResult } from './http-task.js';
export { systemSleep, virtualTime, type Sleep, type VirtualTime } from './time.js';
export type { Clock } from '../../lib/clock.js';
export { DEFAULT_MAX_DEPTH, isLosslessNumber, JsonDepthError, LosslessNumber, MAX_DEPTH_LIMIT, parseExact, stringifyExact } from './json.js';
