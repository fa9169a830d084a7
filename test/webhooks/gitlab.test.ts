/** GitLab sends its secret token as a header; there is no signature and no library to sign with. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, gitlabHeaders, utf8 } from './support.js';

const TOKEN = 'gitlab-webhook-secret-token';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('gitlab preset', () => {
  const verifier = createWebhookVerifier({ provider: 'gitlab', secrets: [TOKEN] });

  it('prefers Idempotency-Key (stable across retries) and falls back to X-Gitlab-Event-UUID', async () => {
    const headers = gitlabHeaders(TOKEN, 'idem-1', 'event-1');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true, deliveryId: 'idem-1' });
    headers.delete('Idempotency-Key');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true, deliveryId: 'event-1' });
    headers.delete('X-Gitlab-Event-UUID');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true });
  });

  it('refuses a token that is a prefix, an extension or another case of the secret', async () => {
    for (const token of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), `${TOKEN}\u00a0`]) {
      expect(await verifier.verify(gitlabHeaders(token), utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'token does not match' });
    }
  });

  it('compares fixed-size digests, so the secret is hashed once and each request costs one digest', async () => {
    const digest = vi.spyOn(crypto.subtle, 'digest');
    const rotating = createWebhookVerifier({ provider: 'gitlab', secrets: ['older-gitlab-token', TOKEN] });
    for (let i = 0; i < 3; i++) expect((await rotating.verify(gitlabHeaders(TOKEN), utf8(BODY), NOW_MS)).ok).toBe(true);
    expect(digest).toHaveBeenCalledTimes(2 + 3);
  });
});
