import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { CloudFlowError } from '../cloudflow/types.js';
import { mapExecution, mapUpstreamError, type SuccessOutcome } from '../mapping.js';

/**
 * The one upstream call behind `POST /flows/{name}/run`: sign, send, map. Returns the success
 * outcome or throws the caller-facing GatewayError; the log line gets the upstream's side.
 */
export async function runExecution(deps: Deps, c: Context<AppEnv>, signal?: AbortSignal, log = c.get('log')): Promise<SuccessOutcome> {
  const flow = c.get('flow');
  const timeoutMs = flow.timeout ?? deps.config.upstream.timeout;
  try {
    const result = await deps.upstream.startSyncExecution(
      { flowName: flow.flowName, input: c.get('inputText'), executionName: c.get('executionName'), qualifier: c.get('qualifier') },
      { signal, timeoutMs },
    );
    log.upstreamStatus = 200;
    log.upstreamMs = result.durationMs;
    log.upstreamRequestId = result.requestId;
    log.executionName = result.name;
    if (result.status !== 'Succeeded') log.upstreamCode = result.errorCode ?? result.status;
    return mapExecution(result, flow);
  } catch (error) {
    if (error instanceof CloudFlowError) {
      log.upstreamStatus = error.status;
      log.upstreamCode = error.code ?? error.kind;
      log.upstreamRequestId = error.requestId;
      log.upstreamMs = error.durationMs;
      log.detail = error.message.slice(0, 300);
      throw mapUpstreamError(error, { timeoutMs, maxInputSize: flow.maxInputSize });
    }
    throw error;
  }
}

/** Renders a success outcome; shared by fresh runs and cache hits so both answer the same way. */
export function successResponse(c: Context<AppEnv>, outcome: SuccessOutcome, extraHeaders?: Record<string, string>): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-execution-name': outcome.executionName, ...extraHeaders };
  return c.body(outcome.body, 200, headers);
}

export function runHandler(deps: Deps) {
  return async function run(c: Context<AppEnv>): Promise<Response> {
    const outcome = await runExecution(deps, c, c.req.raw.signal);
    return successResponse(c, outcome);
  };
}
