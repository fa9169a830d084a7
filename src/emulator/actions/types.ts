import { CLOUDFLOW_NAME, CLOUDFLOW_NAME_IN_WORDS } from '../../cloudflow/types.js';
import type { Clock } from '../../lib/clock.js';
import type { Engine } from '../engine/index.js';
import { emulatorError } from '../errors.js';
import type { FlowStore } from '../flow-store.js';
import type { TemporaryKeyStore } from '../temporary-keys.js';

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
  /** Whether the calling key may act on this flow (a key limited to some flows); the server checks the call's own flow. */
  mayUse(flowName: string): boolean;
  /** The temporary keys the STS actions issue and the fnf side accepts until they expire. */
  temporaryKeys: TemporaryKeyStore;
}

/** Returns the response body without `RequestId` (the server adds it first), or throws an EmulatorError. */
export type Action = (ctx: ActionContext) => Promise<Record<string, unknown>>;

/**
 * The flow a call names (`FlowName` or `Name`): required, and held to CloudFlow's naming rule, so a name that can
 * never exist is 400 InvalidArgument rather than 404 FlowNotExists.
 */
export function flowName(params: Readonly<Record<string, string>>, param: 'FlowName' | 'Name'): string {
  const name = params[param];
  if (name === undefined || name === '') throw emulatorError('MissingRequiredParams', param);
  if (!CLOUDFLOW_NAME.test(name)) throw emulatorError('InvalidArgument', `${param} must be ${CLOUDFLOW_NAME_IN_WORDS}.`);
  return name;
}
