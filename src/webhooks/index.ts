/**
 * Webhook signature verification for GitHub, Stripe, Slack, Standard Webhooks and generic HMAC senders.
 * Web Crypto only, so the same code runs on Node and on Workers.
 */
import { createHmacVerifier } from './generic-hmac.js';
import { createGithubVerifier } from './github.js';
import { checkWebhookOptions, type CheckedWebhookOptions } from './options.js';
import { refuse } from './result.js';
import { createSlackVerifier } from './slack.js';
import { createStandardWebhooksVerifier } from './standard-webhooks.js';
import { createStripeVerifier } from './stripe.js';
import type { VerifyResult, WebhookOptions, WebhookVerifier } from './types.js';

export { deliveryIdFromBody } from './delivery-id.js';
export { DEFAULT_TOLERANCE_MS } from './timestamp.js';
export { WEBHOOK_PROVIDERS } from './types.js';
export type { HmacAlgorithm, SignatureEncoding, VerifyResult, WebhookOptions, WebhookProvider, WebhookVerifier } from './types.js';

/** Builds the verifier for one flow. Throws TypeError on bad options; the returned `verify` never throws. */
export function createWebhookVerifier(options: WebhookOptions): WebhookVerifier {
  const preset = createPreset(checkWebhookOptions(options));
  return {
    provider: preset.provider,
    verify: (headers, rawBody, nowMs) => verifyWithoutThrowing(preset, headers, rawBody, nowMs),
  };
}

function createPreset(options: CheckedWebhookOptions): WebhookVerifier {
  switch (options.provider) {
    case 'github':
      return createGithubVerifier(options.secrets);
    case 'stripe':
      return createStripeVerifier(options.secrets, options.toleranceMs);
    case 'slack':
      return createSlackVerifier(options.secrets, options.toleranceMs);
    case 'standard-webhooks':
      return createStandardWebhooksVerifier(options.secrets, options.toleranceMs);
    case 'hmac':
      return createHmacVerifier(options.secrets, options.scheme);
  }
}

/** A route must be able to treat any failure as "not verified", so nothing here may reject. */
async function verifyWithoutThrowing(preset: WebhookVerifier, headers: Headers, rawBody: Uint8Array, nowMs: number): Promise<VerifyResult> {
  if (typeof headers?.get !== 'function') return refuse('headers are missing');
  if (!(rawBody instanceof Uint8Array)) return refuse('body is not raw bytes');
  if (!Number.isFinite(nowMs)) return refuse('current time is not a number');
  try {
    return await preset.verify(headers, rawBody, nowMs);
  } catch {
    return refuse('verification failed unexpectedly');
  }
}
