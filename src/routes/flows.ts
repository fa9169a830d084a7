import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';

/** `GET /flows`: the exposed flows, never their upstream settings. */
export function flowsRoute(deps: Deps) {
  const list = Object.values(deps.config.flows).map((flow) => ({
    name: flow.name,
    description: flow.description,
    path: `/flows/${flow.name}/run`,
    mode: flow.mode,
    access: flow.access === 'public' ? 'public' : 'restricted',
    inputSchema: flow.inputSchema,
  }));
  const body = JSON.stringify({ flows: list });
  return new Hono<AppEnv>().get('/flows', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
}
