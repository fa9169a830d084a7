import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, deliveryIdFromBody } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, NOW_SEC, signStandardWebhooks, standardWebhooksSecret, utf8 } from './support.js';

// The example in the Standard Webhooks specification (and Svix's manual-verification guide).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const specHeaders = (signature = SPEC.signature) => new Headers({ 'webhook-id': SPEC.id, 'webhook-timestamp': SPEC.timestamp, 'webhook-signature': signature });

describe('standard-webhooks preset', () => {
  const SECRET = standardWebhooksSecret('endpoint-secret');
  const verifier = createWebhookVerifier({ provider: 'standard-webhooks', secrets: [SECRET] });

  it("accepts the specification's example and returns webhook-id as the delivery id", async () => {
    const spec = createWebhookVerifier({ provider: 'standard-webhooks', secrets: [SPEC.secret] });
    expect(await spec.verify(specHeaders(), utf8(SPEC.body), Number(SPEC.timestamp) * 1000)).toEqual({ ok: true, deliveryId: SPEC.id });
  });

  it('accepts the same secret written without the whsec_ prefix, as the reference library does', async () => {
    const bare = createWebhookVerifier({ provider: 'standard-webhooks', secrets: [SPEC.secret.slice('whsec_'.length)] });
    expect((await bare.verify(specHeaders(), utf8(SPEC.body), Number(SPEC.timestamp) * 1000)).ok).toBe(true);
    const headers = signStandardWebhooks(BODY, SECRET.slice('whsec_'.length));
    expect((await verifier.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(true);
  });

  it('accepts what the standardwebhooks library signs', async () => {
    const signature = new Webhook(SECRET).sign('msg_31', new Date(NOW_MS), BODY);
    const headers = new Headers({ 'webhook-id': 'msg_31', 'webhook-timestamp': String(NOW_SEC), 'webhook-signature': signature });
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true, deliveryId: 'msg_31' });
  });

  it('accepts any of several space-separated signatures and ignores other versions', async () => {
    const good = signStandardWebhooks(BODY, SECRET).get('webhook-signature')!;
    const other = signStandardWebhooks(BODY, standardWebhooksSecret('old-secret')).get('webhook-signature')!;
    const headers = signStandardWebhooks(BODY, SECRET);
    headers.set('webhook-signature', `v1a,${good.slice(3)} ${other} ${good}`);
    expect((await verifier.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(true);
    headers.set('webhook-signature', `v1a,${good.slice(3)} ${other}`);
    expect((await verifier.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(false);
    headers.set('webhook-signature', `v2,${good.slice(3)}`);
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'no v1 signature in webhook-signature header' });
  });

  it('refuses a changed webhook-id, which is part of the signed content', async () => {
    const headers = signStandardWebhooks(BODY, SECRET);
    headers.set('webhook-id', 'msg_other');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a missing webhook-id', async () => {
    const headers = signStandardWebhooks(BODY, SECRET);
    headers.delete('webhook-id');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'missing webhook-id header' });
  });

  it("reads Svix's svix-* header names when the webhook-* ones are absent", async () => {
    const signed = signStandardWebhooks(BODY, SECRET);
    const headers = new Headers();
    for (const name of ['id', 'timestamp', 'signature']) headers.set(`svix-${name}`, signed.get(`webhook-${name}`)!);
    expect((await verifier.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(true);
  });

  it('refuses at construction a secret that is not base64, without echoing it', () => {
    expect(() => createWebhookVerifier({ provider: 'standard-webhooks', secrets: ['whsec_not base64!'] })).toThrow(TypeError);
    expect(() => createWebhookVerifier({ provider: 'standard-webhooks', secrets: ['whsec_not base64!'] })).not.toThrow(/not base64!/);
    expect(() => createWebhookVerifier({ provider: 'standard-webhooks', secrets: ['whsec_'] })).toThrow(TypeError);
  });

  it('has no body delivery id: webhook-id is returned by verify', () => {
    expect(deliveryIdFromBody('standard-webhooks', { id: 'x' })).toBeUndefined();
  });
});
