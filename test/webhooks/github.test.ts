import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, githubHeaders, utf8 } from './support.js';

const SECRET = "It's a Secret to Everybody";

describe('github preset', () => {
  const verifier = createWebhookVerifier({ provider: 'github', secrets: [SECRET] });

  it("accepts GitHub's documented test vector", async () => {
    // docs.github.com, "Validating webhook deliveries": the expected signature for this secret and payload.
    const headers = githubHeaders('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
    expect((await verifier.verify(headers, utf8('Hello, World!'), NOW_MS)).ok).toBe(true);
  });

  it('accepts what @octokit/webhooks-methods signs, and returns X-GitHub-Delivery as the delivery id', async () => {
    const headers = githubHeaders(await sign(SECRET, BODY), 'f6a5a4c0-6b8e-11ef-9bfa-0d3a5b7e2f10');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true, deliveryId: 'f6a5a4c0-6b8e-11ef-9bfa-0d3a5b7e2f10' });
  });

  it('passes without a delivery id when the header is absent or not a plausible id', async () => {
    const headers = githubHeaders(await sign(SECRET, BODY));
    headers.delete('X-GitHub-Delivery');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true });
    headers.set('X-GitHub-Delivery', 'x'.repeat(300));
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true });
  });

  it('accepts an upper-case hex digest, which is the same signature', async () => {
    const signature = await sign(SECRET, BODY);
    const headers = githubHeaders(`sha256=${signature.slice(7).toUpperCase()}`);
    expect((await verifier.verify(headers, utf8(BODY), NOW_MS)).ok).toBe(true);
  });

  it('refuses the legacy SHA-1 header alone', async () => {
    const headers = new Headers({ 'X-Hub-Signature': 'sha1=' + '0'.repeat(40) });
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
  });

  it('refuses a truncated digest', async () => {
    const signature = await sign(SECRET, BODY);
    expect((await verifier.verify(githubHeaders(signature.slice(0, -2)), utf8(BODY), NOW_MS)).ok).toBe(false);
  });
});
