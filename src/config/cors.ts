import { z } from 'zod';
import type { CorsNeed, CorsOptions } from '../middleware/cors.js';

/**
 * `server.cors`: `false` (the default), `true` (every origin, no credentials) or the full form. Parsed to
 * `false | CorsOptions`; what cannot work in a browser is judged in `corsProblems` with the rest of the config.
 */
export const corsSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      origins: z.union([z.literal('*'), z.array(z.string().min(1))]).default('*'),
      allowHeaders: z.array(z.string()).optional(),
      exposeHeaders: z.array(z.string()).optional(),
      maxAge: z.number().int().nonnegative().optional(),
      credentials: z.boolean().default(false),
    }),
  ])
  .transform((value): false | CorsOptions => (value === true ? { origins: '*', credentials: false } : value));

/** The slice of the config that decides which request headers browsers must be allowed to send. */
interface CorsNeedsSource {
  callers: Record<string, { apiKeys: readonly string[] }>;
  auth: { jwt?: unknown };
  flows: Record<string, { webhook?: unknown; idempotency?: unknown }>;
}

/**
 * The request headers the configured features need a browser to send. Webhook flows are called by their
 * senders' servers, never from a page, so they need none. Optional headers a client may choose to send
 * (`X-Request-Id`, `X-Execution-Name`, `Cache-Control`) are the operator's call and are not required.
 */
export function corsNeeds(config: CorsNeedsSource): CorsNeed[] {
  const needs: CorsNeed[] = [];
  const browserFlows = Object.entries(config.flows).filter(([, flow]) => !flow.webhook);
  if (browserFlows.length) needs.push({ headers: ['Content-Type'], why: 'runs send application/json, which browsers send only after a preflight allows Content-Type' });
  if (config.auth.jwt) needs.push({ headers: ['Authorization'], why: 'auth.jwt tokens arrive as Authorization: Bearer' });
  if (Object.values(config.callers).some((caller) => caller.apiKeys.length)) {
    needs.push({ headers: ['X-API-Key', 'Authorization'], why: "callers' API keys arrive as X-API-Key or Authorization: Bearer" });
  }
  const idempotent = browserFlows.filter(([, flow]) => flow.idempotency).map(([name]) => `flows.${name}.idempotency`);
  if (idempotent.length) needs.push({ headers: ['Idempotency-Key'], why: `${idempotent.join(', ')} reads it` });
  return needs;
}
