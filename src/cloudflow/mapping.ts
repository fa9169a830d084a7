import type { FlowConfig } from '../config/load.js';
import { EXPIRED_TOKEN_CODE, type CloudFlowError, type SyncExecutionResult } from './types.js';
import { GatewayError, gatewayError } from '../errors.js';
import { parseJson } from '../lib/json.js';

/** What a successful run answers with, and what the response cache stores. */
export interface SuccessOutcome {
  /** The execution Output as JSON text (`{}` when empty). */
  body: string;
  /** `{ExecutionName}:{UUID}` as CloudFlow returned it. */
  executionName: string;
  /** Set when the answer must not be stored in the response cache (a `response: proxy` 5xx or `no-store` answer). */
  noStore?: boolean;
}

/**
 * CloudFlow answers HTTP 200 even when the execution failed; flowgate does not: Succeeded is 200 with the
 * Output, Failed the flow's `errors` status (default 500), TimedOut 504, Stopped 500 (README, "HTTP API").
 * Returns the success outcome or throws the GatewayError the caller should see.
 */
export function mapExecution(result: SyncExecutionResult, flow: FlowConfig): SuccessOutcome {
  switch (result.status) {
    case 'Succeeded': {
      const output = result.output?.trim() ? result.output : '{}';
      if (parseJson(output) === undefined) throw gatewayError('UpstreamError', undefined, { cause: 'the execution Output is not JSON' });
      return { body: output, executionName: result.name };
    }
    case 'Failed': {
      const code = result.errorCode || 'ExecutionFailed';
      const status = flow.errors[code] ?? 500;
      // The flow's own error is the caller's business; CloudFlow's transport errors are not (see mapUpstreamError).
      return throwFlowError(code, status, result.errorMessage ?? 'The execution failed.', result.name);
    }
    case 'TimedOut':
      throw gatewayError('ExecutionTimedOut', undefined, { extra: { ExecutionName: result.name } });
    case 'Stopped':
      throw gatewayError('ExecutionStopped', undefined, { extra: { ExecutionName: result.name } });
    default:
      throw gatewayError('UpstreamError', undefined, { cause: `unexpected execution status ${JSON.stringify(result.status).slice(0, 40)}` });
  }
}

function throwFlowError(code: string, status: number, message: string, executionName: string): never {
  throw new GatewayError(code, status, message, { extra: { ExecutionName: executionName } });
}

const CHECK_KEYS = 'check upstream.credentials (accessKeyId, accessKeySecret)';

/**
 * What to do about the upstream codes that mean the gateway's own setup is wrong, in both vocabularies (the POP
 * gateway's and the StartSyncExecution table's). Shown only with `server.exposeUpstreamErrors`.
 */
export const UPSTREAM_HINTS: Readonly<Record<string, string>> = {
  [EXPIRED_TOKEN_CODE]:
    'The STS token the gateway signed with has expired. A token given as a value (type sts, ALIBABA_CLOUD_SECURITY_TOKEN) is never refreshed: use type ram_role_arn, oidc_role_arn, ecs_ram_role or credentials_uri, or replace the token.',
  'InvalidSecurityToken.MismatchWithAccessKey':
    'The STS token does not belong to the AccessKeyId the gateway signed with: check upstream.credentials.securityToken.',
  'InvalidSecurityToken.Malformed': 'The STS token is malformed: check upstream.credentials.securityToken.',
  MissingSecurityToken: 'The AccessKeyId is temporary (STS) and needs its token: set upstream.credentials.securityToken.',
  SignatureDoesNotMatch: `The upstream computed another signature: ${CHECK_KEYS}.`,
  SignatureNotMatch: `The upstream computed another signature: ${CHECK_KEYS}.`,
  'InvalidAccessKeyId.NotFound': `The upstream does not know the AccessKeyId: ${CHECK_KEYS}.`,
  // The API reference's table has one code for an unknown key and for an STS token that is not the key's.
  InvalidAccessKeyID: `The upstream does not know the AccessKeyId, or its STS token is not that key's: ${CHECK_KEYS} and securityToken.`,
  'InvalidAccessKeyId.Inactive': 'The AccessKey is disabled in RAM.',
  'InvalidTimeStamp.Expired': "The gateway's clock is more than 15 minutes off the upstream's: check the host's time synchronisation.",
  RequestTimeTooSkewed: "The gateway's clock is more than 15 minutes off the upstream's: check the host's time synchronisation.",
  'Forbidden.RAM': 'The identity in upstream.credentials may not call fnf:StartSyncExecution on this flow: grant it in RAM.',
  AccessDenied: 'The identity in upstream.credentials may not call fnf:StartSyncExecution on this flow: grant it in RAM.',
  FlowNotExists: "CloudFlow has no flow of this name: check the flow's flowName and upstream.region or upstream.endpoint.",
  ActionNotSupported: 'StartSyncExecution runs Express flows only, and this flow is a Standard one.',
  APIVersionNotSupported: 'upstream.endpoint does not point at CloudFlow (fnf).',
  'InvalidApi.NotFound': 'upstream.endpoint does not point at CloudFlow (fnf).',
};

const NO_CREDENTIALS_HINT = 'The gateway could not obtain upstream credentials (upstream.credentials); the gateway log says why.';

/**
 * Upstream failures. Only throttling and size are the caller's concern; everything caused by our own
 * setup (keys, signature, clock, missing flow) is a generic 502 with the detail kept for the log. With
 * `expose` (`server.exposeUpstreamErrors`, for local debugging) that 502 also carries the upstream's
 * `UpstreamCode` and `UpstreamRequestId` and, for a known setup mistake, a `Hint`: never its message, a
 * secret or a signature.
 */
export function mapUpstreamError(error: CloudFlowError, ctx: { timeoutMs: number; maxInputSize: number; expose?: boolean | undefined }): GatewayError {
  if (error.kind === 'timeout') return gatewayError('GatewayTimeout', ctx.timeoutMs, { cause: error });
  if (error.kind === 'http') {
    if (error.status === 429 || error.code === 'ResourceThrottled' || error.code === 'Throttling.User') {
      const retryAfter = error.retryAfter && /^\d+$/.test(error.retryAfter) ? error.retryAfter : '1';
      return gatewayError('ResourceThrottled', undefined, { headers: { 'retry-after': retryAfter }, cause: error });
    }
    if (error.code === 'EntityTooLarge') return gatewayError('EntityTooLarge', ctx.maxInputSize, { cause: error });
  }
  if (!ctx.expose) return gatewayError('UpstreamError', undefined, { cause: error });
  const extra: Record<string, unknown> = {};
  if (error.code) extra.UpstreamCode = error.code;
  if (error.requestId) extra.UpstreamRequestId = error.requestId;
  const hint =
    error.kind === 'credentials' ? NO_CREDENTIALS_HINT : error.code && Object.hasOwn(UPSTREAM_HINTS, error.code) ? UPSTREAM_HINTS[error.code] : undefined;
  if (hint) extra.Hint = hint;
  return gatewayError('UpstreamError', undefined, { cause: error, extra });
}
