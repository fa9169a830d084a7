import type { Context, MiddlewareHandler, Next } from 'hono';
import type { AppEnv, FlowConfig } from '../env.js';
import { gatewayError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { parseJsonObject } from '../lib/json.js';
import { flowWebhookVerifier } from './from-config.js';
import type { WebhookVerifier } from './types.js';

export interface VerifyWebhookOptions {
  flows: Record<string, FlowConfig>;
  clock: Clock;
}

const decoder = new TextDecoder();

/**
 * `flows.<name>.webhook`: checks the sender's signature over the raw bytes, after `readBody` and before
 * anything parses them. A failure is 401 `InvalidSignature` and nothing runs. A verified sender becomes the
 * caller `webhook:<provider>`, whatever credential (if any) came with it: the signature is what was proven.
 * Verifiers are built here, once, so bad options throw when the app is created.
 */
export function verifyWebhook(options: VerifyWebhookOptions): MiddlewareHandler<AppEnv> {
  const { flows, clock } = options;
  const verifiers = new Map<string, WebhookVerifier>();
  for (const flow of Object.values(flows)) {
    if (!flow.webhook) continue;
    verifiers.set(flow.name, flowWebhookVerifier(flow.name, flow.webhook));
  }

  // Flows without a webhook pass straight through, synchronously (docs/design.md, "Rules for the hot path").
  return function verifyWebhook(c, next) {
    const verifier = verifiers.get(c.get('flow').name);
    if (!verifier) return next();
    return verified(c, next, verifier);
  };

  async function verified(c: Context<AppEnv>, next: Next, verifier: WebhookVerifier): Promise<Response | void> {
    const log = c.get('log');
    const result = await verifier.verify(c.req.raw.headers, c.get('rawBody'), clock.now());
    if (!result.ok) {
      // The reason is a fixed phrase (never a signature or secret), for the operator.
      log.detail = result.reason;
      throw gatewayError('InvalidSignature', undefined);
    }
    const caller = { id: `webhook:${verifier.provider}`, kind: 'webhook' as const, admin: false };
    c.set('caller', caller);
    c.set('webhook', { provider: verifier.provider, deliveryId: result.deliveryId, retryNum: result.retryNum });
    log.caller = caller.id;
    if (verifier.provider === 'slack') {
      const challenge = slackChallenge(c.get('rawBody'));
      // Slack saves an Events API Request URL only after it echoes the challenge; that is not a delivery to run.
      if (challenge !== undefined) return c.json({ challenge });
    }
    await next();
  }
}

function slackChallenge(rawBody: Uint8Array): string | undefined {
  const text = decoder.decode(rawBody);
  if (!text.includes('url_verification')) return undefined;
  const body = parseJsonObject(text);
  return body?.type === 'url_verification' && typeof body.challenge === 'string' ? body.challenge : undefined;
}
