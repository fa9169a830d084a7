export const API_VERSION = '2019-03-15';

export type ExecutionStatus = 'Starting' | 'Running' | 'Stopped' | 'Succeeded' | 'Failed' | 'TimedOut';

export interface StartSyncExecutionRequest {
  flowName: string;
  /** The execution Input: a JSON object, already serialized. */
  input: string;
  executionName?: string | undefined;
  qualifier?: string | undefined;
}

/** The StartSyncExecution response body (reference/cloudflow-api.md §1.4), with our names. */
export interface SyncExecutionResult {
  requestId: string;
  flowName: string;
  /** `{ExecutionName}:{UUID}`. */
  name: string;
  status: ExecutionStatus | string;
  output?: string | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  startedTime?: string | undefined;
  stoppedTime?: string | undefined;
  /** Milliseconds the upstream hop took, for Server-Timing and the access log. */
  durationMs: number;
}

export type CloudFlowErrorKind = 'http' | 'timeout' | 'network' | 'invalid-response' | 'aborted';

/**
 * Anything but a parsed 200 answer. `code`, `status` and `requestId` come from the upstream envelope
 * when there was one; `detail` is for logs only and never reaches a caller.
 */
export class CloudFlowError extends Error {
  readonly kind: CloudFlowErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfter: string | undefined;
  readonly durationMs: number;

  constructor(
    kind: CloudFlowErrorKind,
    message: string,
    fields: {
      status?: number | undefined;
      code?: string | undefined;
      requestId?: string | undefined;
      retryAfter?: string | undefined;
      durationMs: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: fields.cause });
    this.name = 'CloudFlowError';
    this.kind = kind;
    this.status = fields.status;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
    this.durationMs = fields.durationMs;
  }
}
