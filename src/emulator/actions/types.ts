import type { Clock } from '../../lib/clock.js';
import type { Engine } from '../engine/index.js';
import type { FlowStore } from '../flow-store.js';

/** What an action gets: the call's parameters and the emulator's parts. */
export interface ActionContext {
  params: Readonly<Record<string, string>>;
  store: FlowStore;
  engine: Engine;
  clock: Clock;
  uuid: () => string;
  /** Aborts when the caller goes away; a running execution then stops. */
  signal: AbortSignal;
  maxInputSize: number;
  /** The deepest nesting an Input may have. */
  maxDepth: number;
}

/** Returns the response body without `RequestId` (the server adds it first), or throws an EmulatorError. */
export type Action = (ctx: ActionContext) => Promise<Record<string, unknown>>;
