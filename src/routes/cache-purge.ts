import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { gatewayError, storeUnavailable } from '../errors.js';

/**
 * `DELETE /flows/{name}/cache`: drops every cached response of one flow, for admin callers only
 * (`callers.<name>.admin`). Answers 200 `{RequestId, Flow, Purged}`; `Purged` is false when the
 * flow has no cache. A store failure is 503: the admin must know the purge did not happen.
 */
export function purgeCacheHandler(deps: Deps) {
  return async function purgeCache(c: Context<AppEnv>): Promise<Response> {
    const caller = c.get('caller');
    if (caller.kind === 'anonymous')
      throw gatewayError('InvalidCredentials', 'Purging a cache requires an admin caller credential (X-API-Key or Authorization: Bearer).');
    if (!caller.admin) throw gatewayError('AccessDenied', 'Only admin callers may purge a cache.');
    const flow = c.get('flow');
    const log = c.get('log');
    let purged = false;
    if (deps.cache && flow.cache) {
      const result = await deps.cache.purge(flow.name);
      if (!result.ok) {
        log.detail = `cache store ${result.error}: ${result.detail ?? ''}`.slice(0, 300);
        // Nothing was purged; the 503 tells the admin so.
        throw storeUnavailable('cache store');
      }
      purged = true;
    }
    log.cache = purged ? 'purged' : 'none';
    return c.json({ RequestId: c.get('requestId'), Flow: flow.name, Purged: purged });
  };
}
