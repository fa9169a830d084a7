/**
 * The one error table: code → HTTP status → message. Every error flowgate makes uses CloudFlow's
 * envelope `{RequestId, Code, Message}`; no response ever carries a secret, signature, stack or the
 * upstream's raw error text.
 */
export const ERRORS = {
  FlowNotExists: { status: 404, message: (flow: string) => `Flow ${flow} does not exist.` },
  NotFound: { status: 404, message: () => 'The requested resource does not exist.' },
  ExecutionNotExists: { status: 404, message: (name: string) => `Execution ${name} does not exist.` },
  MethodNotAllowed: { status: 405, message: () => 'The method is not allowed on this resource.' },
  RequestTimeout: { status: 408, message: () => 'The request was not received in time.' },
  EntityTooLarge: { status: 413, message: (limit: number) => `The payload size exceeds maximum allowed size (${limit} bytes).` },
  ChunkExtensionsTooLarge: { status: 413, message: () => 'The chunk extensions of the request body exceed the maximum allowed size.' },
  UnsupportedMediaType: { status: 415, message: (accepted: string | undefined) => `The content type must be ${accepted ?? '"application/json"'}.` },
  ExpectationFailed: { status: 417, message: () => 'The only expectation supported is "100-continue".' },
  InvalidArgument: { status: 400, message: (detail: string) => `Parameter error. ${detail}` },
  BadRequest: { status: 400, message: (detail: string) => `The request is not valid HTTP: ${detail}` },
  MissingIdempotencyKey: { status: 400, message: () => 'Parameter error. This flow requires an Idempotency-Key header.' },
  InvalidCredentials: { status: 401, message: (detail: string) => detail },
  InvalidSignature: { status: 401, message: () => 'The webhook signature is missing or does not match.' },
  AccessDenied: { status: 403, message: (detail: string) => detail },
  Conflict: { status: 409, message: (detail: string) => detail },
  IdempotencyKeyMismatch: { status: 422, message: () => 'The Idempotency-Key was already used with a different request body.' },
  ResourceThrottled: { status: 429, message: () => 'The request is throttled. Please try again later.' },
  RequestHeaderFieldsTooLarge: { status: 431, message: () => 'The request line or header fields exceed the maximum allowed size.' },
  InternalError: { status: 500, message: () => 'The gateway failed to process the request.' },
  NotImplemented: { status: 501, message: () => 'The request uses a transfer coding other than "chunked", which is not supported.' },
  ExecutionFailed: { status: 500, message: (detail: string) => detail },
  ExecutionStopped: { status: 500, message: () => 'The execution was stopped.' },
  UpstreamError: { status: 502, message: () => 'The workflow service returned an error. See the gateway log for details.' },
  ServiceUnavailable: { status: 503, message: (detail: string) => detail },
  ExecutionTimedOut: { status: 504, message: () => 'The execution timed out.' },
  GatewayTimeout: { status: 504, message: (limitMs: number) => `The workflow service did not answer within ${limitMs} ms.` },
} as const;

export type ErrorCode = keyof typeof ERRORS;
type MessageArg<C extends ErrorCode> = Parameters<(typeof ERRORS)[C]['message']>[0];

export interface ErrorBody {
  RequestId: string;
  Code: string;
  Message: string;
  [extra: string]: unknown;
}

/**
 * A refusal raised anywhere in the request path. `app.onError` renders it in the envelope, so
 * middleware can simply throw and response headers (CORS, X-Request-Id) are applied once.
 */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

/** `gatewayError('EntityTooLarge', 1048576)`: builds the error from the table. */
export function gatewayError<C extends ErrorCode>(
  code: C,
  arg: MessageArg<C>,
  options?: { headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown },
): GatewayError {
  const entry = ERRORS[code];
  const message = (entry.message as (a: MessageArg<C>) => string)(arg);
  return new GatewayError(code, entry.status, message, options);
}

/**
 * The GatewayError an error is answered with: itself when it is one, otherwise 500 `InternalError`, with the
 * unexpected error's name and message (never its stack or cause, which can hold request data) put in the
 * access log's `detail`, at most 300 characters.
 */
export function asGatewayError(error: unknown, log: { detail?: string | undefined } | undefined): GatewayError {
  if (error instanceof GatewayError) return error;
  if (log) log.detail = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
  return gatewayError('InternalError', undefined);
}

/** The stores a request may be unable to do without, as a 503 names them. */
export type UnavailableStore = 'rate limiter' | 'request record store' | 'execution record store' | 'cache store';

/**
 * 503 `ServiceUnavailable` for a store the request cannot do without: a store call failed or timed out and
 * either `storeOptions.onError` is `closed` or the answer itself depends on the store (an `ack` record, a
 * purge). Store outages are usually short, so it asks for a retry after 1 s (RFC 9110 §10.2.3).
 */
export function storeUnavailable(store: UnavailableStore): GatewayError {
  return gatewayError('ServiceUnavailable', `The ${store} is unavailable. Please try again later.`, { headers: { 'retry-after': '1' } });
}

export function errorBody(requestId: string, error: GatewayError): ErrorBody {
  return { RequestId: requestId, Code: error.code, Message: error.message, ...error.extra };
}
