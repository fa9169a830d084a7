import { STS_ERRORS } from './sts-errors.js';

/**
 * The emulator's one error table: code → HTTP status → message, in CloudFlow's own vocabulary.
 *
 * Signature, key, time and nonce failures use the POP gateway codes (requests reach fnf through the POP
 * gateway, so that is what a real client sees). Business errors use the StartSyncExecution / fnf error code
 * table. Both are listed in docs/emulator.md, Sources. Messages never carry a secret, a signature or a
 * string to sign.
 */
export const EMULATOR_ERRORS = {
  // POP gateway: authentication.
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidSecurityToken.MismatchWithAccessKey': { status: 400, message: 'Specified SecurityToken mismatch with the AccessKey.' },
  'InvalidApi.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  // fnf: the StartSyncExecution and flow-management error table.
  ActionNotSupported: { status: 400, message: 'The requested API operation is incorrect.' },
  APIVersionNotSupported: { status: 400, message: 'The requested API version is not supported.' },
  MissingRequiredParams: { status: 400, message: 'A required parameter is missing.' },
  InvalidArgument: { status: 400, message: 'Parameter error.' },
  EntityTooLarge: { status: 400, message: 'The payload size exceeds maximum allowed size.' },
  FlowNotExists: { status: 404, message: 'The flow does not exist.' },
  FlowAlreadyExists: { status: 409, message: 'The flow already exists.' },
  UnsupportedMediaType: { status: 415, message: 'The content type must be "application/x-www-form-urlencoded".' },
  ResourceThrottled: { status: 429, message: 'The request is throttled. Please try again later.' },
  InternalServerError: { status: 500, message: 'An internal error occurred. Please retry.' },
  // STS (AssumeRole, AssumeRoleWithOIDC) and its temporary keys.
  ...STS_ERRORS,
} as const;

export type EmulatorErrorCode = keyof typeof EMULATOR_ERRORS;

/** A refusal raised anywhere in the emulator; rendered once, in the POP envelope, by `errorResponse`. */
export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  /** `detail` replaces the table message when given (`Flow hello does not exist.`). */
  constructor(code: EmulatorErrorCode, detail?: string, headers: Record<string, string> = {}) {
    super(detail ?? EMULATOR_ERRORS[code].message);
    this.name = 'EmulatorError';
    this.code = code;
    this.status = EMULATOR_ERRORS[code].status;
    this.headers = headers;
  }
}

export function emulatorError(code: EmulatorErrorCode, detail?: string, headers?: Record<string, string>): EmulatorError {
  return new EmulatorError(code, detail, headers);
}

/** The real service's error body: `{RequestId, HostId, Code, Message, Recommend}`. */
export interface ErrorEnvelope {
  RequestId: string;
  HostId: string;
  Code: string;
  Message: string;
  Recommend: string;
}

export function errorEnvelope(requestId: string, hostId: string, error: EmulatorError): ErrorEnvelope {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=fnf&requestId=${requestId}`,
  };
}
