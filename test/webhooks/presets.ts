/**
 * Every preset as the tests drive it: its credentials, and a delivery built the way the provider sends one,
 * signed by the provider's own library where there is one (see support.ts for which). One table, so the
 * tampering suite, the gateway tests and the workerd tests cover the same presets the same way.
 */
import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { defaultToleranceMs, type WebhookOptions, type WebhookProvider } from '../../src/webhooks/index.js';
import {
  HMAC_SCHEME,
  NOW_SEC,
  TWILIO_FORM,
  TWILIO_URL,
  discordKeyPair,
  gitlabHeaders,
  githubHeaders,
  linearBody,
  signDiscord,
  signHmac,
  signLinear,
  signShopify,
  signSlack,
  signStandardWebhooks,
  signStripe,
  signTwilio,
  signTwitch,
  signZoom,
  standardWebhooksSecret,
  twitchTimestamp,
} from './support.js';

export interface Delivery {
  body: string;
  headers: Headers;
  /** The request URL, where the signature covers it (Twilio). */
  url?: string;
}

export interface PresetCase {
  provider: WebhookProvider;
  /** The flow's `webhook` options besides its credentials. */
  options: Omit<WebhookOptions, 'provider' | 'secrets'>;
  /** Three credentials: the current one, the next one (rotation), and one configured nowhere. */
  keys: [current: string, next: string, retired: string];
  /** The `webhook` options that configure these keys: `secrets`, or Discord's `publicKey`. */
  credentials(keys: string[]): Pick<WebhookOptions, 'secrets' | 'publicKey'>;
  /** A delivery signed with `key` at `timestampSec`; `id` makes its delivery id (and body) unique. */
  deliver(key: string, options?: { timestampSec?: number; id?: string }): Promise<Delivery>;
  /** The header carrying the signature (GitLab: the token). */
  signatureHeader: string;
  /** A value of that header of the right name but the wrong shape. */
  malformed: string;
  /** The refusal reason for a wrong secret. */
  mismatch: string;
  /** Whether the body is covered: GitLab's token covers nothing. */
  signsBody: boolean;
  /** The same body with one byte changed. */
  tamper(body: string): string;
  /** Where the signed timestamp is, for the providers that sign one (`body`: Linear's `webhookTimestamp`). */
  timestamp?: { header: string; format?: (timestampSec: number) => string } | { body: true };
  /** The default replay window. */
  toleranceMs: number;
  /** Whether redeliveries carry an id to de-duplicate on (Zoom and generic `hmac` send none). */
  hasDeliveryId: boolean;
  /** The sender's endpoint check, for the providers that have one, and the answer it expects. */
  handshakes?: Handshake[];
}

export interface Handshake {
  name: string;
  deliver(key: string, timestampSec: number): Promise<Delivery>;
  status: number;
  contentType?: string;
  /** The expected answer body, given the key that signed. */
  body(key: string): string;
}

/** A JSON body whose ids (Stripe `id`, Slack `event_id`, Discord `id`) follow `id`. Never a handshake for any preset. */
export const jsonBody = (id: string) => JSON.stringify({ id: `evt_${id}`, event_id: `Ev${id}`, type: 'test.event', data: { n: 1, text: 'héllo ✓' } });
const oneByte = (body: string) => body.replace('"n":1', '"n":2');

const secrets = (keys: string[]) => ({ secrets: keys });
const withType = (headers: Headers, type: string) => {
  headers.set('content-type', type);
  return headers;
};

export const PRESETS: PresetCase[] = [
  {
    provider: 'github',
    options: {},
    keys: ['gh-secret-current', 'gh-secret-next', 'gh-secret-retired'],
    credentials: secrets,
    async deliver(key, { id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: githubHeaders(await octokitSign(key, body), `gh-${id}`) };
    },
    signatureHeader: 'X-Hub-Signature-256',
    malformed: 'sha1=0123456789abcdef0123456789abcdef01234567',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    toleranceMs: defaultToleranceMs('github'),
    hasDeliveryId: true,
  },
  {
    provider: 'gitlab',
    options: {},
    keys: ['gl-token-current', 'gl-token-next', 'gl-token-retired'],
    credentials: secrets,
    async deliver(key, { id = 'one' } = {}) {
      return { body: jsonBody(id), headers: gitlabHeaders(key, `gl-${id}`) };
    },
    signatureHeader: 'X-Gitlab-Token',
    malformed: '',
    mismatch: 'token does not match',
    signsBody: false,
    tamper: oneByte,
    toleranceMs: defaultToleranceMs('gitlab'),
    hasDeliveryId: true,
  },
  {
    provider: 'stripe',
    options: {},
    keys: ['whsec_stripe_current_0123456789', 'whsec_stripe_next_9876543210', 'whsec_stripe_retired_5555555555'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signStripe(body, key, timestampSec) };
    },
    signatureHeader: 'Stripe-Signature',
    malformed: 'v1=zz,t=',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'Stripe-Signature' },
    toleranceMs: defaultToleranceMs('stripe'),
    hasDeliveryId: true,
  },
  {
    provider: 'slack',
    options: {},
    keys: ['8f742231b10e8888abcd99yyyzzz85a5', '0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'ffeeddccbbaa99887766554433221100'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signSlack(body, key, timestampSec) };
    },
    signatureHeader: 'X-Slack-Signature',
    malformed: 'v1=not-hex',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'X-Slack-Request-Timestamp' },
    toleranceMs: defaultToleranceMs('slack'),
    hasDeliveryId: true,
    handshakes: [
      {
        name: 'url_verification',
        async deliver(key, timestampSec) {
          const body = JSON.stringify({
            token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
            challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
            type: 'url_verification',
          });
          return { body, headers: signSlack(body, key, timestampSec, 'application/json') };
        },
        status: 200,
        contentType: 'application/json',
        body: () => '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
      },
      {
        name: 'ssl_check',
        async deliver(key, timestampSec) {
          const body = 'ssl_check=1&token=Jhj5dZrVaK7ZwHHjRyZWjbDl';
          return { body, headers: signSlack(body, key, timestampSec, 'application/x-www-form-urlencoded') };
        },
        status: 200,
        body: () => '',
      },
    ],
  },
  {
    provider: 'shopify',
    options: {},
    keys: ['shpss_current_0123456789abcdef', 'shpss_next_0123456789abcdef', 'shpss_retired_0123456789abcdef'],
    credentials: secrets,
    async deliver(key, { id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signShopify(body, key, `shop-${id}`) };
    },
    signatureHeader: 'X-Shopify-Hmac-Sha256',
    malformed: 'not base64!',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    toleranceMs: defaultToleranceMs('shopify'),
    hasDeliveryId: true,
  },
  {
    provider: 'twilio',
    options: { publicUrl: TWILIO_URL },
    keys: ['twilio-auth-token-current-0001', 'twilio-auth-token-next-000002', 'twilio-auth-token-retired-003'],
    credentials: secrets,
    async deliver(key, { id = 'one' } = {}) {
      const body = `${TWILIO_FORM}&MessageId=${id}`;
      return { body, headers: signTwilio(body, key, TWILIO_URL, `RU-${id}`), url: TWILIO_URL };
    },
    signatureHeader: 'X-Twilio-Signature',
    malformed: '%%%',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: (body) => body.replace('NumMedia=0', 'NumMedia=1'),
    toleranceMs: defaultToleranceMs('twilio'),
    hasDeliveryId: true,
  },
  {
    provider: 'discord',
    options: {},
    keys: ['discord-app-current', 'discord-app-next', 'discord-app-retired'],
    credentials: (keys) => ({ publicKey: keys.map((seed) => discordKeyPair(seed).publicKey) }),
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signDiscord(body, key, timestampSec) };
    },
    signatureHeader: 'X-Signature-Ed25519',
    malformed: 'abcd',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'X-Signature-Timestamp' },
    toleranceMs: defaultToleranceMs('discord'),
    hasDeliveryId: true,
    handshakes: [
      {
        name: 'interaction PING',
        async deliver(key, timestampSec) {
          const body = JSON.stringify({ application_id: '1234567890', id: '987654321', token: 'interaction-token', type: 1, user: { id: '1' }, version: 1 });
          return { body, headers: withType(signDiscord(body, key, timestampSec), 'application/json') };
        },
        status: 200,
        contentType: 'application/json',
        body: () => '{"type":1}',
      },
      {
        name: 'webhook-event PING',
        async deliver(key, timestampSec) {
          const body = JSON.stringify({ version: 1, application_id: '1234567890', type: 0 });
          return { body, headers: withType(signDiscord(body, key, timestampSec), 'application/json') };
        },
        status: 204,
        body: () => '',
      },
    ],
  },
  {
    provider: 'zoom',
    options: {},
    keys: ['zoom-secret-token-current', 'zoom-secret-token-next', 'zoom-secret-token-retired'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signZoom(body, key, timestampSec) };
    },
    signatureHeader: 'x-zm-signature',
    malformed: 'v1=abcdef',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'x-zm-request-timestamp' },
    toleranceMs: defaultToleranceMs('zoom'),
    hasDeliveryId: false,
    handshakes: [
      {
        name: 'endpoint.url_validation',
        async deliver(key, timestampSec) {
          const body = JSON.stringify({ payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' }, event_ts: timestampSec * 1000, event: 'endpoint.url_validation' });
          return { body, headers: withType(signZoom(body, key, timestampSec), 'application/json') };
        },
        status: 200,
        contentType: 'application/json',
        body: (key) =>
          JSON.stringify({ plainToken: 'qgg8vlvZRS6UYooatFL8Aw', encryptedToken: createHmac('sha256', key).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex') }),
      },
    ],
  },
  {
    provider: 'twitch',
    options: {},
    keys: ['twitch-secret-current', 'twitch-secret-next-00', 'twitch-secret-retired'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signTwitch(body, key, timestampSec, `tw-${id}`) };
    },
    signatureHeader: 'Twitch-Eventsub-Message-Signature',
    malformed: 'sha1=abcdef',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'Twitch-Eventsub-Message-Timestamp', format: twitchTimestamp },
    toleranceMs: defaultToleranceMs('twitch'),
    hasDeliveryId: true,
    handshakes: [
      {
        name: 'webhook_callback_verification',
        async deliver(key, timestampSec) {
          const body = JSON.stringify({
            challenge: 'pogchamp-kappa-360noscope-vohiyo',
            subscription: { id: 'f1c2a387', status: 'webhook_callback_verification_pending', type: 'channel.follow', version: '2' },
          });
          return {
            body,
            headers: withType(signTwitch(body, key, timestampSec, `tw-challenge-${timestampSec}`, 'webhook_callback_verification'), 'application/json'),
          };
        },
        status: 200,
        contentType: 'text/plain; charset=utf-8',
        body: () => 'pogchamp-kappa-360noscope-vohiyo',
      },
    ],
  },
  {
    provider: 'linear',
    options: {},
    keys: ['lin_wh_current_0123456789', 'lin_wh_next_0123456789', 'lin_wh_retired_0123456789'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = linearBody(timestampSec, { id: `lin-${id}` });
      return { body, headers: signLinear(body, key, `lin-${id}`) };
    },
    signatureHeader: 'Linear-Signature',
    malformed: 'not-hex',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: (body) => body.replace('"issue-1"', '"issue-2"'),
    timestamp: { body: true },
    toleranceMs: defaultToleranceMs('linear'),
    hasDeliveryId: true,
  },
  {
    provider: 'standard-webhooks',
    options: {},
    keys: [
      standardWebhooksSecret('current-endpoint-secret'),
      standardWebhooksSecret('next-endpoint-secret'),
      standardWebhooksSecret('retired-endpoint-secret'),
    ],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signStandardWebhooks(body, key, timestampSec, `msg_${id}`) };
    },
    signatureHeader: 'webhook-signature',
    malformed: 'v1,%%%not-base64%%%',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'webhook-timestamp' },
    toleranceMs: defaultToleranceMs('standard-webhooks'),
    hasDeliveryId: true,
  },
  {
    provider: 'hmac',
    options: { ...HMAC_SCHEME },
    keys: ['generic-secret-current', 'generic-secret-next', 'generic-secret-retired'],
    credentials: secrets,
    async deliver(key, { timestampSec = NOW_SEC, id = 'one' } = {}) {
      const body = jsonBody(id);
      return { body, headers: signHmac(body, key, timestampSec) };
    },
    signatureHeader: 'X-Signature',
    malformed: 'sha256=AAAA',
    mismatch: 'signature does not match',
    signsBody: true,
    tamper: oneByte,
    timestamp: { header: 'X-Timestamp' },
    toleranceMs: defaultToleranceMs('hmac'),
    hasDeliveryId: false,
  },
];

/** The full `webhook` options of a preset with the given keys. */
export const presetOptions = (preset: PresetCase, keys: string[] = [preset.keys[0]]): WebhookOptions =>
  ({ provider: preset.provider, ...preset.options, ...preset.credentials(keys) }) as WebhookOptions;
