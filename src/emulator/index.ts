/**
 * The local CloudFlow emulator: `createEmulator(options).app` is a Web-standard Hono app that answers the fnf RPC
 * API (StartSyncExecution and the flow-management actions) with real signature checks, and STS's AssumeRole and
 * AssumeRoleWithOIDC, whose temporary keys it accepts until they expire. The Node entry that serves
 * it, loads a flows folder and handler modules is `src/platform/node/emulator.ts`.
 */
export {
  createEmulator,
  DEFAULT_KEY,
  type AccessKey,
  type CallLogLine,
  type Emulator,
  type EmulatorOptions,
  type ErrorCodes,
  type FaultOptions,
  type FlowSource,
  type TemporaryKey,
} from './server.js';
export {
  API_ERRORS,
  ERROR_CODES,
  EmulatorError,
  POP_ERRORS,
  type ApiErrorCode,
  type EmulatorErrorCode,
  type ErrorEnvelope,
  type PopErrorCode,
} from './errors.js';
export { STS_ERRORS, type StsErrorCode } from './sts-errors.js';
export type { FlowStore, StoredFlow } from './flow-store.js';
export type { TaskContext, TaskHandler, TaskHandlers } from './engine/index.js';
/** Numbers a double cannot hold exactly reach handlers as these (lossless-json); return one, or a bigint, to keep a number exact. */
export { isLosslessNumber, LosslessNumber } from './engine/index.js';
