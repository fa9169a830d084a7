import type { MiddlewareHandler } from 'hono';
import type { AppEnv, FlowConfig } from '../env.js';
import { gatewayError } from '../errors.js';
import { EXPOSED_FLOW_NAME } from '../config/schema.js';

/** Only flows the config lists are reachable: flowgate is not an open proxy. */
export function resolveFlow(flows: Record<string, FlowConfig>): MiddlewareHandler<AppEnv> {
  const table = new Map(Object.entries(flows));
  // Not async: an async middleware keeps a suspended frame and a promise alive for the rest of the
  // request, and at saturation those were a large part of what outlived a young-generation GC.
  return function resolveFlow(c, next) {
    const name = c.req.param('name') ?? '';
    const flow = table.get(name);
    // The name is echoed only when it is plain, so the message cannot carry markup or control bytes.
    if (!flow) throw gatewayError('FlowNotExists', EXPOSED_FLOW_NAME.test(name) ? name : '(invalid name)');
    c.set('flow', flow);
    c.get('log').flow = name;
    return next();
  };
}
