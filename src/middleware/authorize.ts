import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';

/** `flows.<name>.access`: public, any identified caller, or a list of caller names (or ids such as `jwt:alice`). */
export function authorize(): MiddlewareHandler<AppEnv> {
  return async function authorize(c, next) {
    const { access } = c.get('flow');
    const caller = c.get('caller');
    if (access !== 'public') {
      if (caller.kind === 'anonymous') throw gatewayError('InvalidCredentials', 'This flow requires a caller credential (X-API-Key or Authorization: Bearer).');
      if (access !== 'authenticated' && !access.includes(caller.id) && !(caller.name && access.includes(caller.name))) {
        throw gatewayError('AccessDenied', 'The caller may not run this flow.');
      }
    }
    await next();
  };
}
