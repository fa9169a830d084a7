/** Twitch EventSub: no official npm library; the recipe is Twitch's documented one, in support.ts. */
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { rfc3339Ms } from '../../src/webhooks/timestamp.js';
import { NOW_MS, NOW_SEC, signTwitch, utf8 } from './support.js';

const SECRET = 'twitch-subscription-secret';
const CHALLENGE = JSON.stringify({
  challenge: 'pogchamp-kappa-360noscope-vohiyo',
  subscription: { id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4', status: 'webhook_callback_verification_pending', type: 'channel.follow', version: '2' },
});

describe('twitch preset', () => {
  const verifier = createWebhookVerifier({ provider: 'twitch', secrets: [SECRET] });

  it('returns the signed message id as the delivery id', async () => {
    const headers = signTwitch(CHALLENGE, SECRET, NOW_SEC, 'msg-42');
    expect(await verifier.verify(headers, utf8(CHALLENGE), NOW_MS)).toEqual({ ok: true, deliveryId: 'msg-42' });
    headers.set('Twitch-Eventsub-Message-Id', 'msg-43');
    expect(await verifier.verify(headers, utf8(CHALLENGE), NOW_MS)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('answers webhook_callback_verification with the raw challenge as text/plain', async () => {
    const headers = signTwitch(CHALLENGE, SECRET, NOW_SEC, 'msg-1', 'webhook_callback_verification');
    const verified = await verifier.verify(headers, utf8(CHALLENGE), NOW_MS);
    expect(await verifier.handshake!(JSON.parse(CHALLENGE) as Record<string, unknown>, headers, verified as { ok: true })).toEqual({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'pogchamp-kappa-360noscope-vohiyo',
      name: 'webhook_callback_verification',
    });
    // The same body as a notification or a revocation is a delivery.
    for (const type of ['notification', 'revocation']) {
      expect(
        await verifier.handshake!(JSON.parse(CHALLENGE) as Record<string, unknown>, signTwitch(CHALLENGE, SECRET, NOW_SEC, 'm', type), { ok: true }),
      ).toBeUndefined();
    }
  });

  it('reads RFC 3339 timestamps with nanoseconds and offsets, and refuses dates that do not exist', () => {
    expect(rfc3339Ms('2019-11-16T10:11:12.634234626Z')).toBe(Date.UTC(2019, 10, 16, 10, 11, 12, 634));
    expect(rfc3339Ms('2019-11-16T10:11:12Z')).toBe(Date.UTC(2019, 10, 16, 10, 11, 12));
    expect(rfc3339Ms('2019-11-16T12:11:12.5+02:00')).toBe(Date.UTC(2019, 10, 16, 10, 11, 12, 500));
    for (const bad of ['2019-02-30T00:00:00Z', '2019-11-16T24:00:00Z', '2019-11-16 10:11:12', '1573899072', '2019-11-16T10:11:12.1234567890Z', '']) {
      expect(rfc3339Ms(bad)).toBeUndefined();
    }
  });

  it('keeps the 10-minute window Twitch documents by default', async () => {
    expect((await verifier.verify(signTwitch(CHALLENGE, SECRET, NOW_SEC - 599), utf8(CHALLENGE), NOW_MS)).ok).toBe(true);
    expect(await verifier.verify(signTwitch(CHALLENGE, SECRET, NOW_SEC - 601), utf8(CHALLENGE), NOW_MS)).toEqual({
      ok: false,
      reason: 'timestamp is older than the tolerance',
    });
  });
});
