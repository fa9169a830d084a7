import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { asGatewayError, errorBody, gatewayError, storeUnavailable } from '../errors.js';
import { ackBody } from '../executions/ack-body.js';
import { executionNameFor } from '../executions/name.js';
import { LEASE_MARGIN_MS, executionKey, type ExecutionRecord } from '../executions/record.js';
import type { StoredResponse } from '../records/types.js';
import type { AccessLogEntry } from '../log.js';
import { guardStoreCall } from '../lib/store-result.js';
import { runExecution } from './run.js';

/** Fresh names tried after a derived name turned out taken. */
const MAX_FRESH_NAMES = 3;

/**
 * `flows.<name>.mode: ack`: records the execution as Running, answers 202 with its name and status URL,
 * and runs it in the background (`deps.defer`: waitUntil on Workers, drained on SIGTERM on Node). The run
 * has no request AbortSignal: a sender that hangs up after the 202 must not cancel it.
 */
export function ackHandler(deps: Deps) {
  const { clock, config, random, records: store } = deps;
  const storeTimeoutMs = config.storeOptions.timeout;
  const ttlMs = config.storeOptions.executionTtl;
  return async function ack(c: Context<AppEnv>): Promise<Response> {
    const flow = c.get('flow');
    const callerId = c.get('caller').id;
    const requestId = c.get('requestId');
    const startedAt = clock.now();
    const record: ExecutionRecord = {
      flow: flow.name,
      callerId,
      requestId,
      status: 'Running',
      startedAt,
      leaseUntil: startedAt + (flow.timeout ?? config.upstream.timeout) + LEASE_MARGIN_MS,
    };
    const name = await claimName(c, callerId, JSON.stringify(record));
    const entry: AccessLogEntry = { requestId, method: c.req.method, path: c.req.path, flow: flow.name, caller: callerId, executionName: name };
    deps.defer(runInBackground(c, entry, record, name));
    const location = `/executions/${name}`;
    c.get('log').executionName = name;
    return c.json(ackBody(requestId, name, 'Running'), 202, { location, 'x-execution-name': name });
  };

  /**
   * Claims the execution record under the caller's own names. A name the request chose (X-Execution-Name)
   * is kept or refused with 409; a derived one is a convenience the request did not ask for, so when this
   * caller already used it (the same X-Request-Id sent twice) the request gets a fresh name instead.
   */
  async function claimName(c: Context<AppEnv>, callerId: string, value: string): Promise<string> {
    const chosen = c.req.header('x-execution-name') !== undefined;
    let name = c.get('executionName');
    for (let fresh = 0; ; fresh++) {
      // Without a record the 202's status URL would be a lie, so a failing store refuses the request (the sender retries).
      const claimed = await guardStoreCall(() => store.claim(executionKey(callerId, name), value, ttlMs), storeTimeoutMs);
      if (!claimed.ok) {
        c.get('log').detail = `record store ${claimed.error}`;
        throw storeUnavailable('execution record store');
      }
      if (claimed.value === undefined) break;
      if (chosen) throw gatewayError('Conflict', `An execution named ${name} already exists.`);
      // A random UUID repeats only when the injected randomness is broken; do not spin on it.
      if (fresh === MAX_FRESH_NAMES) throw gatewayError('InternalError', undefined);
      name = executionNameFor(random.uuid());
    }
    if (name !== c.get('executionName')) {
      c.set('executionName', name);
      await c.get('executionRenamed')?.(name);
    }
    return name;
  }

  async function runInBackground(c: Context<AppEnv>, entry: AccessLogEntry, record: ExecutionRecord, name: string): Promise<void> {
    const response = await outcomeOf(c, entry);
    const finished: ExecutionRecord = {
      ...record,
      status: response.status === 200 ? 'Succeeded' : 'Failed',
      stoppedAt: clock.now(),
      response,
      ...(response.headers['x-execution-name'] ? { upstreamName: response.headers['x-execution-name'] } : {}),
    };
    const stored = await guardStoreCall(() => store.put(executionKey(record.callerId, name), JSON.stringify(finished), ttlMs), storeTimeoutMs);
    deps.log({
      msg: 'background execution finished',
      ...entry,
      status: response.status,
      executionStatus: finished.status,
      durationMs: finished.stoppedAt! - record.startedAt,
      ...(stored.ok ? {} : { level: 'error', recordError: stored.error }),
    } as Record<string, unknown>);
  }

  /** The answer a synchronous run would have given, as a value: this never throws. */
  async function outcomeOf(c: Context<AppEnv>, entry: AccessLogEntry): Promise<StoredResponse> {
    const requestId = c.get('requestId');
    try {
      const outcome = await runExecution(deps, c, undefined, entry);
      return { status: 200, headers: { 'content-type': 'application/json', 'x-execution-name': outcome.executionName }, body: outcome.body };
    } catch (error) {
      const failure = asGatewayError(error, entry);
      entry.error = failure.code;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...failure.headers };
      const executionName = failure.extra.ExecutionName;
      if (typeof executionName === 'string') headers['x-execution-name'] = executionName;
      return { status: failure.status, headers, body: JSON.stringify(errorBody(requestId, failure)) };
    }
  }
}
