import type { FlowConfig } from '../config/load.js';
import type { CloudFlowError, SyncExecutionResult } from './types.js';
import { GatewayError, gatewayError } from '../errors.js';
import { parseJson } from '../lib/json.js';

/** What a successful run answers with, and what the response cache stores. */
export interface SuccessOutcome {
  /** The execution Output as JSON text (`{}` when empty). */
  body: string;
  /** `{ExecutionName}:{UUID}` as CloudFlow returned it. */
  executionName: string;
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

/**
 * Upstream failures. Only throttling and size are the caller's concern; everything caused by our own
 * setup (keys, signature, clock, missing flow) is a generic 502 with the detail kept for the log.
 */
export function mapUpstreamError(error: CloudFlowError, ctx: { timeoutMs: number; maxInputSize: number }): GatewayError {
  if (error.kind === 'timeout') return gatewayError('GatewayTimeout', ctx.timeoutMs, { cause: error });
  if (error.kind === 'http') {
    if (error.status === 429 || error.code === 'ResourceThrottled' || error.code === 'Throttling.User') {
      const retryAfter = error.retryAfter && /^\d+$/.test(error.retryAfter) ? error.retryAfter : '1';
      return gatewayError('ResourceThrottled', undefined, { headers: { 'retry-after': retryAfter }, cause: error });
    }
    if (error.code === 'EntityTooLarge') return gatewayError('EntityTooLarge', ctx.maxInputSize, { cause: error });
  }
  return gatewayError('UpstreamError', undefined, { cause: error });
}
