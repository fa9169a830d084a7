import type { MiddlewareHandler } from 'hono';
import type { RouteConfig } from '../config/routes.js';
import type { AppEnv, FlowConfig } from '../env.js';
import { gatewayError } from '../errors.js';
import { routeTable } from '../routes/route-table.js';

/**
 * The requests flowgate's own routes did not take: a configured route runs its flow through the same pipeline
 * as `/flows/{name}/run`; a path no route has is 404 `NotFound`, a known path with another method 405
 * `MethodNotAllowed` with `Allow`. The table is built here, once.
 */
export function matchRoute(routes: readonly RouteConfig[], flows: Record<string, FlowConfig>): MiddlewareHandler<AppEnv> {
  const match = routeTable(routes);
  for (const route of routes) if (!Object.hasOwn(flows, route.flow)) throw new TypeError(`${route.key}.flow: not an exposed flow`);
  // Not async: nothing here waits (docs/design.md, "Rules for the hot path").
  return function matchRoute(c, next) {
    const found = match(c.req.method, rawPath(c.req.url));
    if (found.kind === 'none') throw gatewayError('NotFound', undefined);
    if (found.kind === 'method') throw gatewayError('MethodNotAllowed', undefined, { headers: { allow: found.allow } });
    if (found.kind === 'bad-escape') throw gatewayError('InvalidArgument', 'The path holds a malformed percent-escape.');
    const { route, params } = found;
    c.set('route', { config: route, params });
    c.set('flow', flows[route.flow]!);
    const log = c.get('log');
    log.flow = route.flow;
    log.route = `${route.method} ${route.path}`;
    return next();
  };
}

/** The path as the client sent it (percent-escapes intact, no query), so an escaped "/" stays inside its segment. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}
