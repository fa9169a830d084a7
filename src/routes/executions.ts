import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { gatewayError, storeUnavailable } from '../errors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { executionKey, type ExecutionRecord } from '../executions/record.js';
import { parseRecord } from '../records/types.js';
import { guardStoreCall } from '../lib/store-result.js';

/** Longer than any caller id (`jwt:` and a 256-character subject); bounds the record key. */
const MAX_CALLER_ID = 512;

/**
 * `GET /executions/{name}[?caller=<id>]`: where an `ack` execution stands. Names are per caller, so a
 * caller reads its own executions by name; an admin caller reads another caller's by adding that caller's
 * id (as in the access log's `caller` field); only an admin is told (400) that a `?caller` is malformed. A
 * non-admin's `?caller` naming anyone else, whatever its value, gets the same 404 as an unknown name, since
 * names are not secrets. Status is Running, Succeeded or Failed; `Unknown` when a run was abandoned
 * by a process that died.
 */
export function executionsRoute(deps: Deps, identifyCaller: MiddlewareHandler<AppEnv>) {
  const { clock, config, records: store } = deps;
  return new Hono<AppEnv>().get('/executions/:name', identifyCaller, async (c) => {
    const name = c.req.param('name');
    if (!CLOUDFLOW_NAME.test(name)) throw gatewayError('ExecutionNotExists', '(invalid name)');
    const caller = c.get('caller');
    const asked = c.req.query('caller');
    if (asked !== undefined && asked !== caller.id) {
      // A caller that may read only its own gets no hint about other callers, whatever it asked for.
      if (!caller.admin) throw gatewayError('ExecutionNotExists', name);
      if (asked === '' || asked.length > MAX_CALLER_ID)
        throw gatewayError('InvalidArgument', `caller must be a caller id of 1 to ${MAX_CALLER_ID} characters.`);
    }
    const owner = asked ?? caller.id;
    const found = await guardStoreCall(() => store.get(executionKey(owner, name)), config.storeOptions.timeout);
    if (!found.ok) {
      c.get('log').detail = `record store ${found.error}`;
      throw storeUnavailable('execution record store');
    }
    const record = parseRecord<ExecutionRecord>(found.value);
    // The key already names the owner; the stored id is checked too, so a record can only ever reach its own caller.
    if (!record || record.callerId !== owner) throw gatewayError('ExecutionNotExists', name);

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
