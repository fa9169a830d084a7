import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';
import { executionKey, type ExecutionRecord } from '../executions/record.js';
import { parseRecord, type RecordStore } from '../idempotency/store.js';
import { guardStoreCall } from '../stores/result.js';

const EXECUTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/**
 * `GET /executions/{name}`: where an `ack` execution stands. Readable by the caller that started it, or by
 * an admin caller; anyone else gets the same 404 as for an unknown name, since names are not secrets.
 * Status is Running, Succeeded or Failed; `Unknown` when a run was abandoned by a process that died.
 */
export function executionsRoute(deps: Deps, store: RecordStore, identifyCaller: MiddlewareHandler<AppEnv>) {
  const { clock, config } = deps;
  return new Hono<AppEnv>().get('/executions/:name', identifyCaller, async (c) => {
    const name = c.req.param('name');
    if (!EXECUTION_NAME.test(name)) throw gatewayError('ExecutionNotExists', '(invalid name)');
    const found = await guardStoreCall(() => store.get(executionKey(name)), config.storeOptions.timeout);
    if (!found.ok) {
      c.get('log').detail = `record store ${found.error}`;
      throw gatewayError('ServiceUnavailable', 'The execution record store is unavailable. Please retry.', { headers: { 'retry-after': '1' } });
    }
    const record = parseRecord<ExecutionRecord>(found.value);
    const caller = c.get('caller');
    if (!record || (!caller.admin && caller.id !== record.callerId)) throw gatewayError('ExecutionNotExists', name);

    const status = record.status === 'Running' && clock.now() > record.leaseUntil ? 'Unknown' : record.status;
    const body: Record<string, unknown> = {
      RequestId: c.get('requestId'),
      ExecutionName: name,
      Flow: record.flow,
      Status: status,
      StartedTime: new Date(record.startedAt).toISOString(),
    };
    if (record.stoppedAt !== undefined) body.StoppedTime = new Date(record.stoppedAt).toISOString();
    if (record.upstreamName) body.UpstreamExecutionName = record.upstreamName;
    if (record.response) body.Result = { StatusCode: record.response.status, Body: parseRecord(record.response.body) ?? record.response.body };
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (status === 'Running') headers['retry-after'] = '1';
    return c.json(body, 200, headers);
  });
}
