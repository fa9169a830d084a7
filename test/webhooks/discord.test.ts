/** Discord: Ed25519 through Web Crypto, checked against `discord-interactions`' own `verifyKey`. */
import { verifyKey } from 'discord-interactions';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, deliveryIdFromBody } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, NOW_SEC, discordKeyPair, signDiscord, utf8 } from './support.js';

const APP = discordKeyPair('discord-app');
const OTHER = discordKeyPair('another-app');

describe('discord preset', () => {
  const verifier = createWebhookVerifier({ provider: 'discord', publicKey: APP.publicKey });
  const oracle = (headers: Headers, body: string, publicKey = APP.publicKey) =>
    verifyKey(body, headers.get('X-Signature-Ed25519')!, headers.get('X-Signature-Timestamp')!, publicKey);

  it('accepts what discord-interactions accepts, and refuses what it refuses', async () => {
    const headers = signDiscord(BODY, 'discord-app');
    const cases: [string, Headers, string][] = [
      ['signed', headers, APP.publicKey],
      ['one byte changed', headers, APP.publicKey],
      ['another application', signDiscord(BODY, 'another-app'), APP.publicKey],
      ['checked with the other key', headers, OTHER.publicKey],
    ];
    for (const [what, signed, publicKey] of cases) {
      const body = what === 'one byte changed' ? BODY.replace('"n":1', '"n":2') : BODY;
      const ours = await createWebhookVerifier({ provider: 'discord', publicKey }).verify(signed, utf8(body), NOW_MS);
      expect({ what, ok: ours.ok }).toEqual({ what, ok: await oracle(signed, body, publicKey) });
    }
    expect(await oracle(headers, BODY)).toBe(true);
  });

  it('accepts any of several public keys while an application is replaced, telling which', async () => {
    const both = createWebhookVerifier({ provider: 'discord', publicKey: [OTHER.publicKey, APP.publicKey] });
    expect(await both.verify(signDiscord(BODY, 'discord-app'), utf8(BODY), NOW_MS)).toEqual({ ok: true, keyIndex: 1 });
    expect(await both.verify(signDiscord(BODY, 'third-app'), utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('accepts upper-case hex keys and signatures', async () => {
    const upper = createWebhookVerifier({ provider: 'discord', publicKey: APP.publicKey.toUpperCase() });
    const headers = signDiscord(BODY, 'discord-app');
    headers.set('X-Signature-Ed25519', headers.get('X-Signature-Ed25519')!.toUpperCase());
    expect((await upper.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(true);
  });

  it('refuses a signature moved to another timestamp, which is part of the signed message', async () => {
    const headers = signDiscord(BODY, 'discord-app');
    headers.set('X-Signature-Timestamp', String(NOW_SEC + 1));
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('answers an interaction PING with {"type":1} and a webhook-event PING with 204, as discord-interactions does', async () => {
    const verified = { ok: true as const };
    expect(await verifier.handshake!({ id: '1', type: 1, application_id: '2', token: 't', version: 1 }, new Headers(), verified)).toEqual({
      status: 200,
      contentType: 'application/json',
      body: '{"type":1}',
      name: 'ping',
    });
    expect(await verifier.handshake!({ version: 1, application_id: '2', type: 0 }, new Headers(), verified)).toEqual({ status: 204, name: 'ping' });
    // A webhook event (type 1 with an event) and an application command (type 2) are deliveries.
    expect(await verifier.handshake!({ type: 1, event: { type: 'APPLICATION_AUTHORIZED' } }, new Headers(), verified)).toBeUndefined();
    expect(await verifier.handshake!({ id: '3', type: 2, data: { name: 'deploy' } }, new Headers(), verified)).toBeUndefined();
  });

  it('takes the interaction id from the body as the delivery id', () => {
    expect(deliveryIdFromBody('discord', { id: '1204440592436187176', type: 2 })).toBe('1204440592436187176');
    expect(deliveryIdFromBody('discord', { type: 0, version: 1 })).toBeUndefined();
  });
});
