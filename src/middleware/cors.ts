import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { corsProblems, DEFAULT_ALLOW_HEADERS, DEFAULT_EXPOSE_HEADERS, type CorsNeed, type CorsOptions } from '../config/cors.js';
import type { AppEnv } from '../env.js';

/** Runs are POST, purges DELETE, the rest GET; a preflight asks only about the first two (GET and POST are safelisted). */
const ALLOW_METHODS = ['GET', 'POST', 'DELETE'];

/**
 * CORS for every route: preflights answered with 204, actual answers (errors included) with
 * `Access-Control-Allow-Origin` (the request's origin when listed, with `Vary: Origin`), the exposed
 * headers and, with credentials, `Access-Control-Allow-Credentials: true`. Throws a TypeError naming each
 * problem {@link corsProblems} finds, so options that slipped past the config loader still stop the start. `routeMethods`
 * are the methods of `routes:`, which a preflight must allow as well.
 */
export function corsPolicy(options: CorsOptions, needs: readonly CorsNeed[] = [], routeMethods: readonly string[] = []): MiddlewareHandler<AppEnv> {
  const problems = corsProblems(options, needs);
  if (problems.length) throw new TypeError(problems.map((p) => `server.cors.${p.path}: ${p.message}`).join('; '));
  return cors({
    origin: options.origins === '*' ? '*' : [...options.origins],
    allowHeaders: [...(options.allowHeaders ?? DEFAULT_ALLOW_HEADERS)],
    exposeHeaders: [...(options.exposeHeaders ?? DEFAULT_EXPOSE_HEADERS)],
    // A route's own method (PUT, PATCH) must pass a preflight too.
    allowMethods: [...new Set([...ALLOW_METHODS, ...routeMethods])],
    credentials: options.credentials,
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
  });
}
