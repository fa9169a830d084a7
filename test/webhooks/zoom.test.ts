/** Zoom: no official npm signer; the recipe is Zoom's documented one (and its sample app's), in support.ts. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeWebhookHmac } from '../../src/platform/node/digests.js';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { NOW_MS, signZoom, utf8 } from './support.js';

const SECRET = 'zoom-secret-token-0123456789';
const VALIDATION = JSON.stringify({ payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' }, event_ts: 1654503849680, event: 'endpoint.url_validation' });

describe('zoom preset', () => {
  const verifier = createWebhookVerifier({ provider: 'zoom', secrets: [SECRET] });

  it.each([
    ['Web Crypto', undefined],
    ['node:crypto', nodeWebhookHmac],
  ] as const)('answers endpoint.url_validation with the plainToken and its HMAC under the secret that verified (%s HMAC)', async (_name, hmac) => {
    const rotating = createWebhookVerifier({ provider: 'zoom', secrets: ['zoom-old-secret-token', SECRET] }, hmac);
    const verified = await rotating.verify(signZoom(VALIDATION, SECRET), utf8(VALIDATION), NOW_MS);
    expect(verified).toEqual({ ok: true, keyIndex: 1 });
    const answer = await rotating.handshake!(JSON.parse(VALIDATION) as Record<string, unknown>, new Headers(), verified as { ok: true });
    const encryptedToken = createHmac('sha256', SECRET).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex');
    expect(answer).toEqual({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ plainToken: 'qgg8vlvZRS6UYooatFL8Aw', encryptedToken }),
      name: 'endpoint.url_validation',
    });
  });

  it('does not treat other events, or a validation without a plainToken, as a handshake', async () => {
    const verified = { ok: true as const, keyIndex: 0 };
    expect(await verifier.handshake!({ event: 'meeting.started', payload: { plainToken: 'x' } }, new Headers(), verified)).toBeUndefined();
    expect(await verifier.handshake!({ event: 'endpoint.url_validation', payload: {} }, new Headers(), verified)).toBeUndefined();
    expect(await verifier.handshake!({ event: 'endpoint.url_validation', payload: null }, new Headers(), verified)).toBeUndefined();
  });

  it('refuses an unsigned validation request, as Zoom signs those too', async () => {
    expect(await verifier.verify(new Headers(), utf8(VALIDATION), NOW_MS)).toEqual({ ok: false, reason: 'missing x-zm-signature header' });
  });
});
