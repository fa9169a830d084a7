import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';

/** `GET /flows`: the exposed flows and the routes that run them, never their upstream settings. */
export function flowsRoute(deps: Deps) {
  const list = Object.values(deps.config.flows).map((flow) => ({
    name: flow.name,
    description: flow.description,
    path: `/flows/${flow.name}/run`,
    mode: flow.mode,
    access: flow.access === 'public' ? 'public' : 'restricted',
    inputSchema: flow.inputSchema,
  }));
  const routes = deps.config.routes.map((route) => ({
    method: route.method,
    path: route.path,
    flow: route.flow,
    ...(route.description ? { description: route.description } : {}),
  }));
  const body = JSON.stringify({ flows: list, routes });
  return new Hono<AppEnv>().get('/flows', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
}
