/** The refusals every preset owes: forged, altered, replayed or garbled deliveries, and secret rotation. */
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, type WebhookOptions } from '../../src/webhooks/index.js';
import {
  BODY,
  HMAC_SCHEME,
  NOW_MS,
  NOW_SEC,
  signGithub,
  signHmac,
  signSlack,
  signStandardWebhooks,
  signStripe,
  standardWebhooksSecret,
  utf8,
} from './support.js';

interface Preset {
  options: Omit<WebhookOptions, 'secrets'>;
  secret: string;
  otherSecret: string;
  /** A secret no longer configured anywhere. */
  retiredSecret: string;
  sign(body: string, secret: string, timestampSec: number): Headers | Promise<Headers>;
  signatureHeader: string;
  /** A header value of the right name but the wrong shape. */
  malformed: string;
  /** The header carrying the signed timestamp; undefined when the scheme signs none. */
  timestampHeader?: string;
}

const presets: Record<string, Preset> = {
  github: {
    options: { provider: 'github' },
    secret: 'gh-secret-current',
    otherSecret: 'gh-secret-next',
    retiredSecret: 'gh-secret-retired',
    sign: (body, secret) => signGithub(body, secret),
    signatureHeader: 'X-Hub-Signature-256',
    malformed: 'sha1=0123456789abcdef0123456789abcdef01234567',
  },
  stripe: {
    options: { provider: 'stripe' },
    secret: 'whsec_stripe_current_0123456789',
    otherSecret: 'whsec_stripe_next_9876543210',
    retiredSecret: 'whsec_stripe_retired_5555555555',
    sign: signStripe,
    signatureHeader: 'Stripe-Signature',
    malformed: 'v1=zz,t=',
    timestampHeader: 'Stripe-Signature',
  },
  slack: {
    options: { provider: 'slack' },
    secret: '8f742231b10e8888abcd99yyyzzz85a5',
    otherSecret: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    retiredSecret: 'ffeeddccbbaa99887766554433221100',
    sign: signSlack,
    signatureHeader: 'X-Slack-Signature',
    malformed: 'v1=not-hex',
    timestampHeader: 'X-Slack-Request-Timestamp',
  },
  'standard-webhooks': {
    options: { provider: 'standard-webhooks' },
    secret: standardWebhooksSecret('current-endpoint-secret'),
    otherSecret: standardWebhooksSecret('next-endpoint-secret'),
    retiredSecret: standardWebhooksSecret('retired-endpoint-secret'),
    sign: signStandardWebhooks,
    signatureHeader: 'webhook-signature',
    malformed: 'v1,%%%not-base64%%%',
    timestampHeader: 'webhook-timestamp',
  },
  hmac: {
    options: { provider: 'hmac', ...HMAC_SCHEME },
    secret: 'generic-secret-current',
    otherSecret: 'generic-secret-next',
    retiredSecret: 'generic-secret-retired',
    sign: signHmac,
    signatureHeader: 'X-Signature',
    malformed: 'sha256=AAAA',
    timestampHeader: 'X-Timestamp',
  },
};

const SIX_MINUTES_SEC = 6 * 60;

describe.each(Object.entries(presets))('%s preset', (_name, preset) => {
  const verifier = createWebhookVerifier({ ...preset.options, secrets: [preset.secret] });
  const verify = async (headers: Headers, body = BODY, nowMs = NOW_MS) => verifier.verify(headers, utf8(body), nowMs);

  it('accepts a delivery signed with its secret', async () => {
    expect((await verify(await preset.sign(BODY, preset.secret, NOW_SEC))).ok).toBe(true);
  });

  it('refuses a changed body', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
    expect(await verify(headers, BODY.replace('"n":1', '"n":2'))).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a body changed only in whitespace', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    expect((await verify(headers, pretty)).ok).toBe(false);
    expect((await verify(headers, `${BODY}\n`)).ok).toBe(false);
    expect((await verify(headers, BODY.replace(':', ': '))).ok).toBe(false);
  });

  it('refuses a delivery signed with another secret', async () => {
    expect(await verify(await preset.sign(BODY, preset.otherSecret, NOW_SEC))).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a missing signature header', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
    headers.delete(preset.signatureHeader);
    const result = await verify(headers);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(/^missing /);
  });

  it('refuses a malformed signature header', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
    headers.set(preset.signatureHeader, preset.malformed);
    expect((await verify(headers)).ok).toBe(false);
    headers.set(preset.signatureHeader, '');
    expect((await verify(headers)).ok).toBe(false);
  });

  it('accepts a delivery whose signature matches the second of two secrets (rotation)', async () => {
    const rotating = createWebhookVerifier({ ...preset.options, secrets: [preset.otherSecret, preset.secret] });
    expect((await rotating.verify(await preset.sign(BODY, preset.secret, NOW_SEC), utf8(BODY), NOW_MS)).ok).toBe(true);
    expect((await rotating.verify(await preset.sign(BODY, preset.otherSecret, NOW_SEC), utf8(BODY), NOW_MS)).ok).toBe(true);
    expect((await rotating.verify(await preset.sign(BODY, preset.retiredSecret, NOW_SEC), utf8(BODY), NOW_MS)).ok).toBe(false);
  });

  if (preset.timestampHeader === undefined) {
    it('has no signed timestamp, so the tolerance does not apply (de-duplicate on the delivery id instead)', async () => {
      const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
      expect((await verify(headers, BODY, NOW_MS + 30 * 86_400_000)).ok).toBe(true);
    });
    return;
  }
  const timestampHeader = preset.timestampHeader;

  it('refuses a timestamp older than the tolerance', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC - SIX_MINUTES_SEC);
    expect(await verify(headers)).toEqual({ ok: false, reason: 'timestamp is older than the tolerance' });
  });

  it('refuses a timestamp further in the future than the tolerance', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC + SIX_MINUTES_SEC);
    expect(await verify(headers)).toEqual({ ok: false, reason: 'timestamp is further in the future than the tolerance' });
  });

  it('accepts timestamps at the edge of the tolerance in both directions', async () => {
    expect((await verify(await preset.sign(BODY, preset.secret, NOW_SEC - 300))).ok).toBe(true);
    expect((await verify(await preset.sign(BODY, preset.secret, NOW_SEC + 300))).ok).toBe(true);
  });

  it('honours a configured tolerance', async () => {
    const strict = createWebhookVerifier({ ...preset.options, secrets: [preset.secret], tolerance: 30_000 });
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC - 31);
    expect((await strict.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(false);
    expect((await strict.verify(headers, utf8(BODY), NOW_MS - 2_000)).ok).toBe(true);
  });

  it('refuses a timestamp rewritten to look fresh, because the timestamp is signed', async () => {
    const stale = await preset.sign(BODY, preset.secret, NOW_SEC - SIX_MINUTES_SEC);
    const original = stale.get(timestampHeader)!;
    stale.set(timestampHeader, original.replace(String(NOW_SEC - SIX_MINUTES_SEC), String(NOW_SEC)));
    expect(await verify(stale)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a missing or non-numeric timestamp', async () => {
    const headers = await preset.sign(BODY, preset.secret, NOW_SEC);
    const original = headers.get(timestampHeader)!;
    headers.set(timestampHeader, original.replace(String(NOW_SEC), 'yesterday'));
    expect((await verify(headers)).ok).toBe(false);
    if (timestampHeader !== preset.signatureHeader) {
      headers.delete(timestampHeader);
      expect((await verify(headers)).ok).toBe(false);
    }
  });
});
