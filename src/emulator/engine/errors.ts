/**
 * Error types of the FDL engine.
 *
 * Two kinds exist on purpose: a `FlowDefinitionError` is a bad definition (found at load time, before anything
 * runs), while a `StateFailure` is an FDL runtime error that Retry/Catch rules can match by its `code`.
 */

/** A definition that cannot run. The message names the offending state whenever there is one. */
export class FlowDefinitionError extends Error {
  override readonly name = 'FlowDefinitionError';
  constructor(
    message: string,
    /** The state the problem is in, when there is one. */
    readonly stateName?: string,
  ) {
    super(stateName === undefined ? message : `State "${stateName}": ${message}`);
  }
}

/** Error names the engine raises itself. Users match them in Retry/Catch `Errors` like any other name. */
export const ErrorNames = {
  /** Documented wildcard: matches every error. */
  All: 'FnF.ALL',
  /** A Task `Timeout`, or (as the execution error code) the flow `Timeout` / Express cap. Inferred name. */
  Timeout: 'FnF.Timeout',
  /** A handler threw something without a usable name or code. Inferred name. */
  TaskFailed: 'FnF.TaskFailed',
  /** An expression or data-shape problem at run time (e.g. ItemsPath is not an array). Inferred name. */
  RuntimeError: 'FnF.RuntimeError',
  /** A state input or output over the 64 KiB limit. Inferred name. */
  DataLimitExceeded: 'FnF.DataLimitExceeded',
  /** A Task Action the engine cannot run (no local handler, or a service it does not emulate). Inferred name. */
  ActionNotSupported: 'FnF.ActionNotSupported',
  /** A Fail state without `Code`. Inferred name. */
  Failed: 'FnF.Failed',
  /** `HTTP:Request` could not reach the server. Inferred name; a non-2xx answer raises `HTTP.<status>`. */
  HttpRequestFailed: 'HTTP.RequestFailed',
} as const;

/** An FDL runtime error: what Retry/Catch see, and what a failed execution reports as ErrorCode/ErrorMessage. */
export class StateFailure extends Error {
  override readonly name = 'StateFailure';
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** Turns anything a handler or the engine threw into a StateFailure; `code` wins over `name` (it is more specific). */
export function toStateFailure(thrown: unknown): StateFailure {
  if (thrown instanceof StateFailure) return thrown;
  if (typeof thrown === 'object' && thrown !== null) {
    const { code, name, message } = thrown as { code?: unknown; name?: unknown; message?: unknown };
    const detail = typeof message === 'string' ? message : '';
    if (typeof code === 'string' && code !== '') return new StateFailure(code, detail);
    if (typeof name === 'string' && name !== '' && name !== 'Error') return new StateFailure(name, detail);
    return new StateFailure(ErrorNames.TaskFailed, detail);
  }
  return new StateFailure(ErrorNames.TaskFailed, thrown === undefined ? '' : String(thrown));
}

/** Why an execution-wide AbortSignal fired. Never matched by Retry/Catch: it ends the whole execution. */
export class ExecutionInterrupt {
  constructor(
    /** `cancelled`: a sibling Parallel branch or Map iteration failed; `finished`: the run is over. */
    readonly kind: 'timeout' | 'stopped' | 'cancelled' | 'finished',
    readonly message: string,
  ) {}
}
