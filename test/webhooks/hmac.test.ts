import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, utf8 } from './support.js';

const SECRET = 'shared-secret-for-a-generic-sender';

describe('hmac preset', () => {
  it.each([
    ['sha1', 'hex'],
    ['sha256', 'hex'],
    ['sha512', 'hex'],
    ['sha1', 'base64'],
    ['sha256', 'base64'],
    ['sha512', 'base64'],
  ] as const)('verifies %s digests written in %s', async (algorithm, encoding) => {
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets: [SECRET], header: 'X-Body-Signature', algorithm, encoding });
    const digest = createHmac(algorithm, SECRET).update(BODY).digest(encoding);
    expect(await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(BODY), NOW_MS)).toEqual({ ok: true });
    expect((await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(`${BODY} `), NOW_MS)).ok).toBe(false);
  });

  it('defaults to sha256, hex and no prefix', async () => {
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets: [SECRET], header: 'X-Body-Signature' });
    const digest = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect((await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(BODY), NOW_MS)).ok).toBe(true);
  });

  it('requires the configured prefix', async () => {
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets: [SECRET], header: 'X-Body-Signature', prefix: 'sha256=' });
    const digest = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect((await verifier.verify(new Headers({ 'X-Body-Signature': `sha256=${digest}` }), utf8(BODY), NOW_MS)).ok).toBe(true);
    expect(await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(BODY), NOW_MS)).toEqual({
      ok: false,
      reason: 'malformed X-Body-Signature header',
    });
  });

  it('refuses a digest of another algorithm', async () => {
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets: [SECRET], header: 'X-Body-Signature', algorithm: 'sha512' });
    const digest = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect((await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(BODY), NOW_MS)).ok).toBe(false);
  });

  it('without a timestamp header, signs the body alone and applies no tolerance', async () => {
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets: [SECRET], header: 'X-Body-Signature' });
    const digest = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect((await verifier.verify(new Headers({ 'X-Body-Signature': digest }), utf8(BODY), NOW_MS + 86_400_000)).ok).toBe(true);
  });
});
