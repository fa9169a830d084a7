/**
 * Signers for the tests, each built on the provider's own library or its documented algorithm, so the
 * verifiers are checked against what senders really send rather than against themselves.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { getHmac as shopifyHmac } from '@shopify/shopify-api/test-helpers';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import * as twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';

/** 2026-01-01T00:00:00Z: every test passes this clock in; none reads the wall clock. */
export const NOW_SEC = 1_767_225_600;
export const NOW_MS = NOW_SEC * 1000;

/** A JSON body with non-ASCII text, so the UTF-8 bytes, not the characters, have to be what is signed. */
export const BODY = JSON.stringify({ id: 'evt_1NXmZt2eZvKYlo2C', type: 'push', data: { n: 1, text: 'héllo ✓' } });

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const stripe = new Stripe('sk_test_fake');

export function githubHeaders(signature: string, deliveryId = '72d3162e-cc78-11e3-81ab-4c9367dc0958'): Headers {
  return new Headers({ 'X-Hub-Signature-256': signature, 'X-GitHub-Delivery': deliveryId, 'X-GitHub-Event': 'push' });
}

export async function signGithub(body: string, secret: string): Promise<Headers> {
  return githubHeaders(await octokitSign(secret, body));
}

export function signStripe(body: string, secret: string, timestampSec = NOW_SEC): Headers {
  return new Headers({ 'Stripe-Signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: timestampSec }) });
}

/** Slack's documented recipe: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret. */
export function slackSignature(body: string | Uint8Array, secret: string, timestampSec = NOW_SEC): string {
  const hmac = createHmac('sha256', secret).update(`v0:${timestampSec}:`).update(body);
  return `v0=${hmac.digest('hex')}`;
}

export function signSlack(body: string, secret: string, timestampSec = NOW_SEC, contentType?: string): Headers {
  const headers = new Headers({ 'X-Slack-Signature': slackSignature(body, secret, timestampSec), 'X-Slack-Request-Timestamp': String(timestampSec) });
  if (contentType) headers.set('content-type', contentType);
  return headers;
}

export function signStandardWebhooks(body: string, secret: string, timestampSec = NOW_SEC, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'): Headers {
  const signature = new Webhook(secret).sign(id, new Date(timestampSec * 1000), body);
  return new Headers({ 'webhook-id': id, 'webhook-timestamp': String(timestampSec), 'webhook-signature': signature });
}

/** The generic preset as configured in the tests: SHA-512, base64, `sha512=` prefix, signed timestamp header. */
export const HMAC_SCHEME = { header: 'X-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestampHeader: 'X-Timestamp' } as const;

export function signHmac(body: string, secret: string, timestampSec = NOW_SEC): Headers {
  const digest = createHmac('sha512', secret).update(`${timestampSec}.${body}`).digest('base64');
  return new Headers({ 'X-Signature': `sha512=${digest}`, 'X-Timestamp': String(timestampSec) });
}

/** A Standard Webhooks secret as senders issue it: `whsec_` + base64 of 24 random-looking bytes. */
export function standardWebhooksSecret(seed: string): string {
  return `whsec_${btoa(seed.padEnd(24, '.').slice(0, 24))}`;
}

/** GitLab sends the secret token itself (GitLab, "Webhooks", "Delivery headers"); there is no library to sign with. */
export function gitlabHeaders(
  token: string,
  idempotencyKey = '0b0a3a5e-6b14-4a8e-a4e4-1bd6b8a3e001',
  eventUuid = 'c6a9c2b8-1e2f-4bd4-9d0b-8a8f5b1c2d3e',
): Headers {
  return new Headers({ 'X-Gitlab-Token': token, 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Event-UUID': eventUuid, 'Idempotency-Key': idempotencyKey });
}

/** Shopify's own test helper (`@shopify/shopify-api/test-helpers` `getHmac`) signs; the other headers are what Shopify sends. */
export function signShopify(body: string, secret: string, webhookId = 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043'): Headers {
  return new Headers({
    'X-Shopify-Hmac-Sha256': shopifyHmac(body, secret),
    'X-Shopify-Topic': 'orders/create',
    'X-Shopify-API-Version': '2025-01',
    'X-Shopify-Shop-Domain': 'flowgate-test.myshopify.com',
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-Event-Id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'X-Shopify-Triggered-At': '2026-01-01T00:00:00.000000000Z',
  });
}

/** The URL Twilio is configured to post to in the tests (`webhook.publicUrl`). */
export const TWILIO_URL = 'https://gateway.example.com/flows/sms/run';

/** A form body as Twilio posts an incoming SMS, with a non-ASCII text and a repeated parameter. */
export const TWILIO_FORM =
  'ToCountry=US&MessageSid=SM2a1b3c4d5e6f708192a3b4c5d6e7f809&AccountSid=ACdeadbeefdeadbeefdeadbeefdeadbeef' +
  '&From=%2B15005550006&To=%2B15005550001&Body=h%C3%A9llo+%E2%9C%93+%26+more&NumMedia=0&Tag=b&Tag=a';

/** Signs with the `twilio` library's own `getExpectedTwilioSignature` over the URL and the form's parameters (repeats as arrays, as Express hands them over). */
export function signTwilio(
  form: string,
  secret: string,
  url = TWILIO_URL,
  idempotencyToken = 'RUf23d8e0a2d1b0c7e2e1b9f3f0a1b2c3d-ED1',
  algorithm?: 'HMAC_SHA256',
): Headers {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(form)) {
    const seen = params[name];
    params[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const headers = new Headers({
    'X-Twilio-Signature': twilioWebhooks.getExpectedTwilioSignature(secret, url, params, algorithm),
    'I-Twilio-Idempotency-Token': idempotencyToken,
    'content-type': 'application/x-www-form-urlencoded',
  });
  if (algorithm) headers.set('X-Twilio-Webhooks-Signature-Settings', `key=webhooks_sharedkey_test,algorithm=${algorithm}`);
  return headers;
}

/** A JSON body as Twilio signs it: `bodySHA256` (from the library's `getExpectedBodyHash`) in the URL, the signature over that URL alone. */
export function signTwilioJson(body: string, secret: string, url = TWILIO_URL): { url: string; headers: Headers } {
  const signedUrl = `${url}?bodySHA256=${twilioWebhooks.getExpectedBodyHash(body)}`;
  const headers = new Headers({
    'X-Twilio-Signature': twilioWebhooks.getExpectedTwilioSignature(secret, signedUrl, {}),
    'I-Twilio-Idempotency-Token': 'RU-json-1',
    'content-type': 'application/json',
  });
  return { url: signedUrl, headers };
}

/**
 * An Ed25519 key pair from a seed text (its SHA-256 is the 32-byte seed), so a test names a key by a word.
 * The private key signs what Discord would; `publicKey` is the hex the Developer Portal shows.
 */
export function discordKeyPair(seed: string): { privateKey: KeyObject; publicKey: string } {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), createHash('sha256').update(seed).digest()]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  return { privateKey, publicKey };
}

/** Discord's documented scheme: Ed25519 over `X-Signature-Timestamp` + body. `discord-interactions`' `verifyKey` checks these in the tests. */
export function signDiscord(body: string, seed: string, timestampSec = NOW_SEC): Headers {
  const signature = cryptoSign(null, Buffer.from(`${timestampSec}${body}`), discordKeyPair(seed).privateKey).toString('hex');
  return new Headers({ 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': String(timestampSec) });
}

/** Zoom's documented recipe (and Zoom's sample app): `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function signZoom(body: string, secret: string, timestampSec = NOW_SEC): Headers {
  const digest = createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return new Headers({ 'x-zm-signature': `v0=${digest}`, 'x-zm-request-timestamp': String(timestampSec) });
}

/** Twitch writes RFC 3339 timestamps with nanoseconds. */
export const twitchTimestamp = (timestampSec: number) => new Date(timestampSec * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1456789Z');

/** Twitch's documented recipe ("Verifying the event message"): `sha256=` + hex HMAC-SHA256 of id + timestamp + body. */
export function signTwitch(body: string, secret: string, timestampSec = NOW_SEC, id = 'e76c6bd4-55c9-4987-8304-da1588d8988b', type = 'notification'): Headers {
  const timestamp = twitchTimestamp(timestampSec);
  const digest = createHmac('sha256', secret)
    .update(id + timestamp + body)
    .digest('hex');
  return new Headers({
    'Twitch-Eventsub-Message-Id': id,
    'Twitch-Eventsub-Message-Timestamp': timestamp,
    'Twitch-Eventsub-Message-Signature': `sha256=${digest}`,
    'Twitch-Eventsub-Message-Type': type,
    'Twitch-Eventsub-Subscription-Type': 'channel.follow',
    'Twitch-Eventsub-Subscription-Version': '2',
  });
}

/** A Linear delivery body: its `webhookTimestamp` (unix ms) is what the replay window reads. */
export function linearBody(timestampSec = NOW_SEC, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ action: 'create', type: 'Issue', data: { id: 'issue-1', title: 'héllo ✓' }, ...extra, webhookTimestamp: timestampSec * 1000 });
}

/** Linear's documented recipe: hex HMAC-SHA256 of the body; `LinearWebhookClient.verify` checks these in the tests. */
export function signLinear(body: string, secret: string, deliveryId = '234d1a4e-b617-4388-90fe-adc3633d6b72'): Headers {
  return new Headers({ 'Linear-Signature': createHmac('sha256', secret).update(body).digest('hex'), 'Linear-Delivery': deliveryId, 'Linear-Event': 'Issue' });
}
