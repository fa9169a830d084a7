/**
 * The local CloudFlow emulator: `createEmulator(options).app` is a Web-standard Hono app that answers the fnf RPC
 * API (StartSyncExecution and the flow-management actions) with real signature checks. The Node entry that serves
 * it, loads a flows folder and handler modules is `src/platform/node/emulator.ts`.
 */
export {
  createEmulator,
  DEFAULT_KEY,
  type AccessKey,
  type CallLogLine,
  type Emulator,
  type EmulatorOptions,
  type FaultOptions,
  type FlowSource,
  type TemporaryKey,
} from './server.js';
export { EMULATOR_ERRORS, EmulatorError, type EmulatorErrorCode, type ErrorEnvelope } from './errors.js';
export type { FlowStore, StoredFlow } from './flow-store.js';
export type { TaskContext, TaskHandler, TaskHandlers } from './engine/index.js';
