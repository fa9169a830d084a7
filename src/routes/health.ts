import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';

/** `/healthz` is liveness only; `/readyz` asks whether valid upstream credentials are held, and each store. */
export function healthRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const checks: Record<string, { ok: boolean; detail?: string }> = {};
      for (const readiness of deps.readiness) {
        try {
          checks[readiness.name] = await readiness.check();
        } catch (error) {
          checks[readiness.name] = { ok: false, detail: error instanceof Error ? error.message : 'failed' };
        }
      }
      const ok = Object.values(checks).every((check) => check.ok);
      return c.json({ status: ok ? 'ok' : 'unavailable', checks }, ok ? 200 : 503);
    });
}
