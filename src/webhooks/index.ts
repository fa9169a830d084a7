/**
 * Webhook signature verification for GitHub, GitLab, Stripe, Slack, Shopify, Twilio, Discord, Zoom, Twitch,
 * Linear, Standard Webhooks and generic HMAC senders. Web Crypto only, so the same code runs on Node and on
 * Workers; a runtime with a synchronous HMAC (node:crypto) may inject it (`WebhookHmac`).
 */
import { createDiscordVerifier } from './discord.js';
import { createHmacVerifier } from './generic-hmac.js';
import { createGithubVerifier } from './github.js';
import { createGitlabVerifier } from './gitlab.js';
import { createLinearVerifier } from './linear.js';
import { checkWebhookOptions, type CheckedWebhookOptions } from './options.js';
import { refuse } from './result.js';
import { createShopifyVerifier } from './shopify.js';
import { createSlackVerifier } from './slack.js';
import { createStandardWebhooksVerifier } from './standard-webhooks.js';
import { createStripeVerifier } from './stripe.js';
import { createTwilioVerifier } from './twilio.js';
import { createTwitchVerifier } from './twitch.js';
import type { VerifyResult, WebhookHmac, WebhookOptions, WebhookVerifier } from './types.js';
import { createZoomVerifier } from './zoom.js';

export { deliveryIdFromBody } from './delivery-id.js';
export { DEFAULT_TOLERANCE_MS, defaultToleranceMs } from './timestamp.js';
export { WEBHOOK_PROVIDERS } from './types.js';
export type {
  BodyFormat,
  HandshakeAnswer,
  HmacAlgorithm,
  SignatureEncoding,
  VerifyResult,
  WebhookHmac,
  WebhookOptions,
  WebhookProvider,
  WebhookVerifier,
} from './types.js';

/**
 * Builds the verifier for one flow. Throws TypeError on bad options; the returned `verify` never throws. `hmac`:
 * a synchronous HMAC where the runtime has one (node:crypto); Web Crypto's otherwise.
 */
export function createWebhookVerifier(options: WebhookOptions, hmac?: WebhookHmac): WebhookVerifier {
  const preset = createPreset(checkWebhookOptions(options), hmac);
  const verifier: WebhookVerifier = {
    provider: preset.provider,
    body: preset.body,
    verify: (headers, rawBody, nowMs, url) => verifyWithoutThrowing(preset, headers, rawBody, nowMs, url),
  };
  if (preset.handshake) verifier.handshake = preset.handshake.bind(preset);
  return verifier;
}

function createPreset(options: CheckedWebhookOptions, hmac: WebhookHmac | undefined): WebhookVerifier {
  const { secrets, toleranceMs } = options;
  switch (options.provider) {
    case 'github':
      return createGithubVerifier(secrets, hmac);
    case 'gitlab':
      return createGitlabVerifier(secrets, hmac);
    case 'stripe':
      return createStripeVerifier(secrets, toleranceMs, hmac);
    case 'slack':
      return createSlackVerifier(secrets, toleranceMs, hmac);
    case 'shopify':
      return createShopifyVerifier(secrets, hmac);
    case 'twilio':
      return createTwilioVerifier(secrets, options.publicUrl, hmac);
    case 'discord':
      return createDiscordVerifier(options.publicKeys, toleranceMs);
    case 'zoom':
      return createZoomVerifier(secrets, toleranceMs, hmac);
    case 'twitch':
      return createTwitchVerifier(secrets, toleranceMs, hmac);
    case 'linear':
      return createLinearVerifier(secrets, toleranceMs, hmac);
    case 'standard-webhooks':
      return createStandardWebhooksVerifier(secrets, toleranceMs, hmac);
    case 'hmac':
      return createHmacVerifier(secrets, options.scheme, options.format, hmac);
  }
}

/** A route must be able to treat any failure as "not verified", so nothing here may reject. */
async function verifyWithoutThrowing(
  preset: WebhookVerifier,
  headers: Headers,
  rawBody: Uint8Array,
  nowMs: number,
  url: string | undefined,
): Promise<VerifyResult> {
  if (typeof headers?.get !== 'function') return refuse('headers are missing');
  if (!(rawBody instanceof Uint8Array)) return refuse('body is not raw bytes');
  if (!Number.isFinite(nowMs)) return refuse('current time is not a number');
  if (url !== undefined && typeof url !== 'string') return refuse('request URL is not text');
  try {
    return await preset.verify(headers, rawBody, nowMs, url);
  } catch {
    return refuse('verification failed unexpectedly');
  }
}
