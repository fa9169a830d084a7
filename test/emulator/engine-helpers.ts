/** Shared helpers for the engine tests: load a YAML flow and run it on virtual time. */
import {
  createEngine,
  loadFlowDefinition,
  virtualTime,
  type EngineOptions,
  type ExecuteOptions,
  type ExecutionResult,
  type LoadOptions,
} from '../../src/emulator/engine/index.js';
import { DEFAULT_MAX_DEPTH, toHandlerValue } from '../../src/emulator/engine/json.js';

export interface RunOptions extends Omit<EngineOptions, 'clock' | 'sleep'> {
  load?: LoadOptions;
  execute?: ExecuteOptions;
}

/**
 * Loads `yaml` (Express by default) and executes it with virtual time starting at 0. The output comes back as a
 * handler would see it: numbers a double holds exactly as plain numbers, any other as a LosslessNumber.
 */
export async function runFlow(yaml: string, input: Record<string, unknown> = {}, options: RunOptions = {}): Promise<ExecutionResult & { elapsed: number }> {
  const { load, execute, ...engineOptions } = options;
  const flow = loadFlowDefinition(yaml, { executionMode: 'Express', ...load });
  const time = virtualTime();
  const engine = createEngine({ ...engineOptions, clock: time.clock, sleep: time.sleep });
  const result = await engine.execute(flow, input, execute);
  const output = result.output === undefined ? {} : { output: toHandlerValue(result.output, DEFAULT_MAX_DEPTH) };
  return { ...result, ...output, elapsed: result.stoppedAt - result.startedAt };
}

/** Wraps a list of states into a flow that starts at the first one. */
export function flowOf(states: string, extra = ''): string {
  const first = /Name:\s*(\S+)/.exec(states)?.[1] ?? 'Start';
  return `Type: StateMachine\nSpecVersion: v1\nName: test\n${extra}StartAt: ${first}\nStates:\n${states}`;
}
