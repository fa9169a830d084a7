import { STS_ERRORS, type StsErrorCode } from './sts-errors.js';

/**
 * The emulator's error tables, code → HTTP status → message format, in two vocabularies:
 *
 *  - `api` (the default): the error table of the CloudFlow API reference's StartSyncExecution page, every row with
 *    its status, plus `FlowAlreadyExists` for CreateFlow. A message is the reference's wording of the row, with
 *    what went wrong in place of `%s`.
 *  - `pop`: what the POP gateway in front of `*.aliyuncs.com` answers for signature, key, time, nonce, token, route
 *    and permission failures (`SignatureDoesNotMatch`, `InvalidAccessKeyId.NotFound`, …). That the live endpoint
 *    answers with these is an inference (requests reach fnf through that gateway); the other rows are fnf's own
 *    and the same in both.
 *
 * STS's own codes (sts-errors.ts: `InvalidSecurityToken.Expired` for a temporary key past its expiry, and the
 * AssumeRole / AssumeRoleWithOIDC refusals) are the same in both. The STS side itself always answers in the `pop`
 * vocabulary: the STS API reference lists the POP gateway's codes, and the StartSyncExecution table is fnf's.
 *
 * A refusal is raised once, naming its `api` (or STS) code and, where the POP gateway names it differently, its
 * `pop` code; the server renders it in the vocabulary of the side that answers (docs/emulator.md lists both side
 * by side). Messages never carry a secret, a signature or a string to sign.
 */

/** Which vocabulary the emulator answers errors in. */
export type ErrorCodes = 'api' | 'pop';
export const ERROR_CODES: readonly ErrorCodes[] = ['api', 'pop'];

interface Row {
  status: number;
  /** The message; `%s` is replaced by what went wrong. */
  message: string;
}

/** The API reference's StartSyncExecution error table (and CreateFlow's FlowAlreadyExists). */
export const API_ERRORS = {
  EntityTooLarge: { status: 400, message: 'The payload size exceeds maximum allowed size (%s bytes).' },
  /** Never raised: StartSyncExecution adds a UUID to every name, so two executions never share one. */
  ExecutionAlreadyExists: { status: 400, message: 'Execution %s already exists.' },
  InvalidArgument: { status: 400, message: 'Parameter error. %s' },
  MissingRequiredHeader: { status: 400, message: 'Missing required header: %s.' },
  MissingRequiredParams: { status: 400, message: 'A required parameter is missing: %s.' },
  ActionNotSupported: { status: 400, message: 'The requested API operation is incorrect. %s' },
  APIVersionNotSupported: { status: 400, message: 'The requested API version is not supported. %s' },
  InternalServerError: { status: 500, message: 'Internal error, please retry.' },
  InvalidAccessKeyID: { status: 403, message: 'Invalid AccessKey ID. %s' },
  RequestTimeTooSkewed: { status: 403, message: 'The request time is too skewed from the server time. %s' },
  SignatureNotMatch: { status: 403, message: 'The request signature does not match. %s' },
  AccessDenied: { status: 403, message: 'The resource does not belong to you. %s' },
  FlowNotExists: { status: 404, message: 'Flow %s does not exist.' },
  UnsupportedMediaType: { status: 415, message: 'The content type is not supported: %s.' },
  ResourceThrottled: { status: 429, message: 'The request is throttled. Please try again later.' },
  FlowAlreadyExists: { status: 409, message: 'Flow %s already exists.' },
} as const satisfies Record<string, Row>;

/** The POP gateway's codes, where they differ from the API reference's (help.aliyun.com 434846, 51132). */
export const POP_ERRORS = {
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation. %s' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards. %s' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired. %s' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidSecurityToken.MismatchWithAccessKey': { status: 400, message: 'Specified SecurityToken mismatch with the AccessKey. %s' },
  'InvalidApi.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  'Forbidden.RAM': { status: 403, message: 'User not authorized to operate on the specified resource. %s' },
} as const satisfies Record<string, Row>;

export type ApiErrorCode = keyof typeof API_ERRORS;
export type PopErrorCode = keyof typeof POP_ERRORS;
/** Every code a refusal is raised with: a row of the API reference's table, or one of STS's own. */
export type EmulatorErrorCode = ApiErrorCode | StsErrorCode;

const RAISED: Readonly<Record<EmulatorErrorCode, Row>> = { ...API_ERRORS, ...STS_ERRORS };

export interface ErrorOptions {
  /** The POP gateway's code for the same refusal, when it has one of its own. */
  pop?: PopErrorCode | undefined;
  /** What went wrong, in the POP code's message, when it reads differently there (undefined: nothing). Default: `detail`. */
  popDetail?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** A refusal raised anywhere in the emulator; the server renders it once, in the envelope, in its vocabulary. */
export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;
  readonly detail: string | undefined;
  readonly pop: PopErrorCode | undefined;
  readonly popDetail: string | undefined;
  readonly headers: Record<string, string>;

  constructor(code: EmulatorErrorCode, detail?: string, options: ErrorOptions = {}) {
    super(formatMessage(RAISED[code].message, detail));
    this.name = 'EmulatorError';
    this.code = code;
    this.detail = detail;
    this.pop = options.pop;
    this.popDetail = 'popDetail' in options ? options.popDetail : detail;
    this.headers = options.headers ?? {};
  }

  /** The code, HTTP status and message this refusal has in `codes`. */
  render(codes: ErrorCodes): { code: string; status: number; message: string } {
    if (codes === 'pop' && this.pop !== undefined) {
      const row = POP_ERRORS[this.pop];
      return { code: this.pop, status: row.status, message: formatMessage(row.message, this.popDetail) };
    }
    return { code: this.code, status: RAISED[this.code].status, message: this.message };
  }
}

export function emulatorError(code: EmulatorErrorCode, detail?: string, options?: ErrorOptions): EmulatorError {
  return new EmulatorError(code, detail, options);
}

function formatMessage(format: string, detail: string | undefined): string {
  return format.includes('%s') ? format.replace('%s', detail ?? '').trim() : format;
}

/** The real service's error body: `{RequestId, HostId, Code, Message, Recommend}`. */
export interface ErrorEnvelope {
  RequestId: string;
  HostId: string;
  Code: string;
  Message: string;
  Recommend: string;
}

/** `product` names the API in the troubleshooting link: `fnf`, or `Sts` for the STS side. */
export function errorEnvelope(requestId: string, hostId: string, refusal: { code: string; message: string }, product = 'fnf'): ErrorEnvelope {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: refusal.code,
    Message: refusal.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(refusal.code)}&product=${product}&requestId=${requestId}`,
  };
}
