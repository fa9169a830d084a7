import type { Context, MiddlewareHandler, Next } from 'hono';
import type { AppEnv, FlowConfig } from '../env.js';
import { gatewayError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { decodeWebhookBody } from './body.js';
import { carriesDeliveryIdInBody, deliveryIdFromBody } from './delivery-id.js';
import { flowWebhookVerifier } from './from-config.js';
import type { WebhookHmac, WebhookVerifier } from './types.js';

export interface VerifyWebhookOptions {
  flows: Record<string, FlowConfig>;
  clock: Clock;
  /** `server.maxJsonDepth`: JSON in a body or in a form's `payload` field nested deeper is refused. */
  maxJsonDepth: number;
  /** A synchronous HMAC where the runtime has one (node:crypto); undefined: Web Crypto. */
  hmac: WebhookHmac | undefined;
}

/**
 * `flows.<name>.webhook`: checks the sender's signature over the raw bytes, after `readBody` and before
 * anything reads them. A failure is 401 `InvalidSignature` and nothing runs, whatever the content type. A
 * verified sender becomes the caller `webhook:<provider>`, whatever credential (if any) came with it: the
 * signature is what was proven. Only then is the body decoded by the sender's rule (JSON, form fields, a
 * `payload` field, text: 415 for a type the sender does not post, 400 for a body that is not what it says),
 * a handshake answered without running anything, and the delivery id (header or body) handed on to
 * de-duplication. Verifiers are built here, once, so bad options throw when the app is created.
 */
export function verifyWebhook(options: VerifyWebhookOptions): MiddlewareHandler<AppEnv> {
  const { flows, clock, maxJsonDepth, hmac } = options;
  const verifiers = new Map<string, WebhookVerifier>();
  for (const flow of Object.values(flows)) {
    if (!flow.webhook) continue;
    verifiers.set(flow.name, flowWebhookVerifier(flow.name, flow.webhook, hmac));
  }

  // Flows without a webhook pass straight through, synchronously (docs/design.md, "Rules for the hot path").
  return function verifyWebhook(c, next) {
    const verifier = verifiers.get(c.get('flow').name);
    if (!verifier) return next();
    return verified(c, next, verifier);
  };

  async function verified(c: Context<AppEnv>, next: Next, verifier: WebhookVerifier): Promise<Response | void> {
    const log = c.get('log');
    const headers = c.req.raw.headers;
    const rawBody = c.get('rawBody');
    const result = await verifier.verify(headers, rawBody, clock.now(), c.req.url);
    if (!result.ok) {
      // The reason is a fixed phrase (never a signature or secret), for the operator.
      log.detail = result.reason;
      throw gatewayError('InvalidSignature', undefined);
    }
    const caller = { id: `webhook:${verifier.provider}`, kind: 'webhook' as const, admin: false };
    c.set('caller', caller);
    log.caller = caller.id;

    const decoded = decodeWebhookBody(verifier.body, c.req.header('content-type'), rawBody, maxJsonDepth);
    // A sender checking the endpoint (saving a URL, a periodic probe) is answered here; that is not a delivery to run.
    const answer = verifier.handshake ? await verifier.handshake(decoded.value, headers, result) : undefined;
    if (answer) {
      log.detail = `handshake: ${answer.name}`;
      const answerHeaders: Record<string, string> = answer.contentType ? { 'content-type': answer.contentType } : {};
      return answer.body === undefined ? c.body(null, answer.status, answerHeaders) : c.body(answer.body, answer.status as 200, answerHeaders);
    }
    c.set('decodedInput', decoded);
    // `decoded.value` parses the body on first read; a provider whose id is a header never needs it.
    const deliveryId = result.deliveryId ?? (carriesDeliveryIdInBody(verifier.provider) ? deliveryIdFromBody(verifier.provider, decoded.value) : undefined);
    c.set('webhook', { provider: verifier.provider, deliveryId, retryNum: result.retryNum });
    await next();
  }
}
