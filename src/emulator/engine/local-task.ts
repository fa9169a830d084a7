/**
 * Local handlers: the emulator's stand-in for integrated services. A Task with `Action: Local:<name>` calls
 * `handlers[<name>]`. `Local` follows the documented `<Service>:<API>` shape, with the handler name as the API,
 * so local tasks stay distinct from the cloud actions (FC:InvokeFunction …) the emulator does not run.
 */

export const LOCAL_SERVICE = 'Local';

/** What a handler gets besides its input. */
export interface TaskContext {
  executionName: string;
  flowName: string;
  stateName: string;
  /** How many retries of this state came before this attempt ($Context.Current.RetryCount). */
  retryCount: number;
  /** Aborts when the Task times out, or the execution times out or is stopped. */
  signal: AbortSignal;
  /** The engine's clock, so handlers agree with the engine's notion of time. */
  now(): number;
  /** The engine's sleep (virtual in tests, scaled by timeScale), already bound to `signal`. */
  sleep(ms: number): Promise<void>;
}

/**
 * A local Task handler. It receives the Task's `Parameters` (or the state input when there are none) and returns
 * the raw task result (`$Output`). To fail with a specific FDL error name, throw an error with a `code` or a
 * `name` (e.g. `Object.assign(new Error('no stock'), { code: 'OutOfStock' })`); its `message` becomes the detail.
 */
export type TaskHandler = (input: unknown, context: TaskContext) => unknown;

export type TaskHandlers = Readonly<Record<string, TaskHandler>>;

/** The handler name of a `Local:<name>` action, or undefined for other actions. */
export function localHandlerName(action: string): string | undefined {
  const prefix = `${LOCAL_SERVICE}:`;
  return action.startsWith(prefix) ? action.slice(prefix.length) : undefined;
}
