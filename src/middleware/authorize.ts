import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Caller } from '../env.js';
import { gatewayError } from '../errors.js';

/**
 * `flows.<name>.access`: public, any identified caller, or a list of caller names, caller ids such
 * as `jwt:alice`, or `jwt:*` for any caller with a verified token.
 */
export function authorize(): MiddlewareHandler<AppEnv> {
  // Not async, like resolveFlow: nothing here waits.
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
  return access.includes(caller.id) || (caller.name !== undefined && access.includes(caller.name)) || access.includes(`${caller.kind}:*`);
}
