/** The loaded, validated form of a flow definition. The interpreter only ever sees this shape. */
import type { Template } from './constructor.js';
import type { CompiledExpression } from './expression/ast.js';

/** `ExecutionMode` of a flow (CloudFlow, "Standard and Express" modes; SDK CreateFlowRequest); an empty value means Standard. */
export type ExecutionMode = 'Express' | 'Standard';

export interface FlowDefinition {
  /** `Name` from the definition, when present. */
  name?: string;
  description?: string;
  mode: ExecutionMode;
  /** Flow `Timeout`, in seconds, when present. */
  timeoutSeconds?: number;
  /** The top-level scope. */
  scope: Scope;
  /** Every distinct Task `Action`, so a host can check them against what it can run. */
  actions: string[];
  /** The parsed document, as written. */
  raw: Record<string, unknown>;
}

/** A flow, a Parallel branch or a Map processor: `StartAt` plus its own states. */
export interface Scope {
  startAt: string;
  states: ReadonlyMap<string, State>;
}

export interface RetryRule {
  errors: string[];
  maxAttempts: number;
  intervalSeconds: number;
  backoffRate: number;
  maxBackoffSeconds?: number;
}

export interface CatchRule {
  errors: string[];
  next: string;
  output?: Template;
}

interface Common {
  name: string;
  /** Undefined when the state ends its scope. */
  next?: string;
  input?: Template;
  output?: Template;
  global?: Template;
}

interface WithErrorHandling {
  retry: RetryRule[];
  catch: CatchRule[];
}

export type PassState = Common & { type: 'Pass' };
export type SucceedState = Common & { type: 'Succeed' };
export type FailState = Common & { type: 'Fail'; code?: string; detail?: string };
export type WaitState = Common & { type: 'Wait'; seconds: number | CompiledExpression };
export type ChoiceState = Common & {
  type: 'Choice';
  branches: Array<{ condition: CompiledExpression; next: string }>;
  default: string;
};
export type TaskState = Common &
  WithErrorHandling & {
    type: 'Task';
    action: string;
    parameters?: Template;
    /** Seconds; 0 means never. */
    timeout?: number | CompiledExpression;
  };
export type ParallelState = Common & WithErrorHandling & { type: 'Parallel'; branches: Scope[] };
export type MapState = Common &
  WithErrorHandling & {
    type: 'Map';
    itemsPath: CompiledExpression;
    processor: Scope;
    maxConcurrency: number;
  };

export type State = PassState | SucceedState | FailState | WaitState | ChoiceState | TaskState | ParallelState | MapState;
export type StateType = State['type'];
