import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';

/**
 * `GET /metrics`: the Prometheus text exposition of `deps.metrics`. With `server.metrics.access: admin` (the
 * default) it asks for an admin caller's credential, as the cache purge does; `public` serves anyone. Not
 * mounted when `server.metrics.port` gives it a listener of its own (Node).
 */
export function metricsRoute(deps: Deps, identifyCaller: MiddlewareHandler<AppEnv>) {
  const { metrics } = deps;
  const access = deps.config.server.metrics.access;
  const serve = async () => new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' } });
  const app = new Hono<AppEnv>();
  if (access === 'public') return app.get('/metrics', serve);
  return app.get('/metrics', identifyCaller, async (c) => {
    const caller = c.get('caller');
    if (caller.kind === 'anonymous')
      throw gatewayError('InvalidCredentials', 'Reading metrics requires an admin caller credential (X-API-Key or Authorization: Bearer).');
    if (!caller.admin) throw gatewayError('AccessDenied', 'Only admin callers may read metrics.');
    return serve();
  });
}

/** The handler of a metrics-only listener (`server.metrics.port`): `GET /metrics`, and 404 for anything else. */
export function metricsOnly(deps: Pick<Deps, 'metrics'>): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== 'GET' || path !== '/metrics') return new Response('Not Found\n', { status: 404 });
    return new Response(await deps.metrics.render(), { headers: { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' } });
  };
}
