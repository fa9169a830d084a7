import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Caller } from '../env.js';
import { gatewayError } from '../errors.js';

/**
 * `flows.<name>.access`: public, any identified caller, or a list. One rule for lists, whatever the
 * credential: a configured caller (by API key, or by a token whose claim names it) is matched by its
 * name only; any other token caller by its id (`jwt:alice`) or by `jwt:*`. So `jwt:*` never lets a
 * configured caller in that the list leaves out. The config loader refuses entries this rule can never match.
 */
export function authorize(): MiddlewareHandler<AppEnv> {
  // Not async: nothing here waits (docs/design.md, "Rules for the hot path").
  return function authorize(c, next) {
    const { access } = c.get('flow');
    const caller = c.get('caller');
    if (access !== 'public') {
      if (caller.kind === 'anonymous') throw gatewayError('InvalidCredentials', 'This flow requires a caller credential (X-API-Key or Authorization: Bearer).');
      if (access !== 'authenticated' && !allowed(access, caller)) {
        throw gatewayError('AccessDenied', 'The caller may not run this flow.');
      }
    }
    return next();
  };
}

function allowed(access: string[], caller: Caller): boolean {
  if (caller.name !== undefined) return access.includes(caller.name);
  return access.includes(caller.id) || (caller.kind === 'jwt' && access.includes('jwt:*'));
}
