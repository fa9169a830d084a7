/**
 * Signers for the tests, each built on the provider's own library or its documented algorithm, so the
 * verifiers are checked against what senders really send rather than against themselves.
 */
import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';

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

export function signSlack(body: string, secret: string, timestampSec = NOW_SEC): Headers {
  return new Headers({ 'X-Slack-Signature': slackSignature(body, secret, timestampSec), 'X-Slack-Request-Timestamp': String(timestampSec) });
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
