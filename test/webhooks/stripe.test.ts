import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, deliveryIdFromBody } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, NOW_SEC, utf8 } from './support.js';

const SECRET = 'whsec_test_9f3b6c1a2d4e5f60718293a4b5c6d7e8';
const stripe = new Stripe('sk_test_fake');

function stripeSignature(payload: string, secret = SECRET, timestamp = NOW_SEC): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

/** The hex digest of a Stripe-Signature header made by the library. */
const v1Of = (header: string): string => /v1=([0-9a-f]+)/.exec(header)![1]!;

describe('stripe preset', () => {
  const verifier = createWebhookVerifier({ provider: 'stripe', secrets: [SECRET] });
  const verify = (header: string, body = BODY) => verifier.verify(new Headers({ 'Stripe-Signature': header }), utf8(body), NOW_MS);

  it("accepts what the stripe library's generateTestHeaderString signs", async () => {
    expect(await verify(stripeSignature(BODY))).toEqual({ ok: true });
  });

  it('agrees with the stripe library about the same request', async () => {
    const header = stripeSignature(BODY);
    const event = await stripe.webhooks.constructEventAsync(BODY, header, SECRET, 300, undefined, NOW_MS);
    expect(event.id).toBe('evt_1NXmZt2eZvKYlo2C');
    expect((await verify(header)).ok).toBe(true);
  });

  it('accepts any of several v1 signatures, as sent while Stripe rolls a secret', async () => {
    const good = v1Of(stripeSignature(BODY));
    const stale = v1Of(stripeSignature(BODY, 'whsec_expired_secret'));
    expect((await verify(`t=${NOW_SEC},v1=${stale},v1=${good}`)).ok).toBe(true);
    expect((await verify(`t=${NOW_SEC},v1=${good},v1=${stale}`)).ok).toBe(true);
    expect((await verify(`t=${NOW_SEC},v1=${stale}`)).ok).toBe(false);
  });

  it('ignores v0 and unknown schemes, and passes on the v1 beside them', async () => {
    const good = v1Of(stripeSignature(BODY));
    expect((await verify(`t=${NOW_SEC},v0=${'0'.repeat(64)},v1=${good},v9=abc`)).ok).toBe(true);
  });

  it('refuses a header whose only valid-looking signature is v0', async () => {
    const good = v1Of(stripeSignature(BODY));
    expect(await verify(`t=${NOW_SEC},v0=${good}`)).toEqual({ ok: false, reason: 'no v1 signature in Stripe-Signature header' });
  });

  it('refuses a header with two timestamps, since it is unclear which one was signed', async () => {
    const good = v1Of(stripeSignature(BODY));
    expect((await verify(`t=${NOW_SEC},t=${NOW_SEC - 1},v1=${good}`)).ok).toBe(false);
  });

  it('refuses a header without a timestamp', async () => {
    expect(await verify(`v1=${v1Of(stripeSignature(BODY))}`)).toEqual({ ok: false, reason: 'malformed Stripe-Signature header' });
  });

  it('gives the event id from the parsed body, since Stripe puts none in headers', () => {
    expect(deliveryIdFromBody('stripe', JSON.parse(BODY))).toBe('evt_1NXmZt2eZvKYlo2C');
    expect(deliveryIdFromBody('stripe', { object: 'event' })).toBeUndefined();
    expect(deliveryIdFromBody('stripe', null)).toBeUndefined();
    expect(deliveryIdFromBody('stripe', { id: 42 })).toBeUndefined();
  });
});
