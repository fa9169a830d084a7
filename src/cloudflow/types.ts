export const API_VERSION = '2019-03-15';

/**
 * The code Alibaba Cloud's gateway answers when temporary keys are past their expiry (the common error codes:
 * "Specified SecurityToken is expired."). The gateway refreshes its keys and retries once on it; the emulator
 * answers it for its own temporary keys.
 */
export const EXPIRED_TOKEN_CODE = 'InvalidSecurityToken.Expired';

/**
 * CloudFlow's naming rule, for flow names, execution names and version aliases alike: 1 to 128 letters,
 * digits, `_` and `-`, starting with a letter or `_` (CloudFlow "Limits", naming rules). Every check and
 * every message about a name uses this one pattern.
 */
export const CLOUDFLOW_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** {@link CLOUDFLOW_NAME} in words, for messages that mirror CloudFlow's own. */
export const CLOUDFLOW_NAME_IN_WORDS = '1-128 letters, digits, "_" or "-", starting with a letter or "_"';

export type ExecutionStatus = 'Starting' | 'Running' | 'Stopped' | 'Succeeded' | 'Failed' | 'TimedOut';

export interface StartSyncExecutionRequest {
  flowName: string;
  /**
   * The execution Input: a JSON object, already serialized, as text or as its UTF-8 bytes (a JSON body as the
   * caller sent it, which is then percent-encoded into the form body without being decoded).
   */
  input: string | Uint8Array;
  executionName?: string | undefined;
  qualifier?: string | undefined;
}

/** The StartSyncExecution response body (CloudFlow API reference, StartSyncExecution), with our names. */
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

/** `credentials`: no valid upstream keys could be had (the source failed); nothing was sent. */
export type CloudFlowErrorKind = 'http' | 'timeout' | 'network' | 'invalid-response' | 'aborted' | 'credentials';

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
