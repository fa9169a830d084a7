import { describe, expect, it } from 'vitest';
import {
  createWebhookVerifier,
  DEFAULT_TOLERANCE_MS,
  defaultToleranceMs,
  WEBHOOK_PROVIDERS,
  type WebhookOptions,
  type WebhookProvider,
} from '../../src/webhooks/index.js';
import { discordKeyPair } from './support.js';

const build = (options: unknown) => () => createWebhookVerifier(options as WebhookOptions);

describe('webhook options', () => {
  it('builds every provider from minimal options', () => {
    const extras: Partial<Record<WebhookProvider, Partial<WebhookOptions>>> = {
      'standard-webhooks': { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
      hmac: { header: 'X-Signature' },
      twilio: { publicUrl: 'https://gateway.example.com/flows/sms/run' },
      twitch: { secrets: ['at-least-ten-characters'] },
      discord: { secrets: undefined, publicKey: discordKeyPair('options').publicKey },
    };
    for (const provider of WEBHOOK_PROVIDERS) {
      const options = { provider, secrets: ['s3cret'], ...extras[provider] } as WebhookOptions;
      if (options.secrets === undefined) delete options.secrets;
      expect(createWebhookVerifier(options).provider).toBe(provider);
    }
    expect(DEFAULT_TOLERANCE_MS).toBe(300_000);
    expect([defaultToleranceMs('stripe'), defaultToleranceMs('twitch'), defaultToleranceMs('linear')]).toEqual([300_000, 600_000, 60_000]);
  });

  it.each([
    ['no options', undefined],
    ['an unknown provider', { provider: 'bitbucket', secrets: ['s'] }],
    ['no secrets', { provider: 'github' }],
    ['an empty secret list', { provider: 'github', secrets: [] }],
    ['a secrets string instead of a list', { provider: 'github', secrets: 's3cret' }],
    ['an empty secret', { provider: 'stripe', secrets: ['whsec_a', ''] }],
    ['a non-string secret', { provider: 'stripe', secrets: [42] }],
    ['a secret with a trailing newline', { provider: 'slack', secrets: ['s3cret\n'] }],
    ['a zero tolerance', { provider: 'slack', secrets: ['s'], tolerance: 0 }],
    ['a tolerance under a second', { provider: 'slack', secrets: ['s'], tolerance: 999 }],
    ['a tolerance over an hour', { provider: 'slack', secrets: ['s'], tolerance: 3_600_001 }],
    ['a tolerance for github, which signs no timestamp', { provider: 'github', secrets: ['s'], tolerance: 300_000 }],
    ['a tolerance for twilio, which signs no timestamp', { provider: 'twilio', secrets: ['s'], publicUrl: 'https://example.com/x', tolerance: 300_000 }],
    ['a tolerance for hmac without timestampHeader', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', tolerance: 300_000 }],
    ['hmac with timestampHeader equal to header', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', timestampHeader: 'X-SIG' }],
    ['a negative tolerance', { provider: 'slack', secrets: ['s'], tolerance: -1 }],
    ['a tolerance given as text', { provider: 'slack', secrets: ['s'], tolerance: '5m' }],
    ['an infinite tolerance', { provider: 'slack', secrets: ['s'], tolerance: Infinity }],
    ['hmac without a header', { provider: 'hmac', secrets: ['s'] }],
    ['hmac with an invalid header name', { provider: 'hmac', secrets: ['s'], header: 'X Sig' }],
    ['hmac with an unknown algorithm', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', algorithm: 'md5' }],
    ['hmac with an unknown encoding', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', encoding: 'base32' }],
    ['hmac with a non-string prefix', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', prefix: 1 }],
    ['hmac with an invalid timestamp header', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', timestampHeader: '' }],
    ['a hmac-only option on a named preset', { provider: 'github', secrets: ['s'], header: 'X-Sig' }],
    ['an algorithm on stripe', { provider: 'stripe', secrets: ['s'], algorithm: 'sha1' }],
    ['a body format on a named preset', { provider: 'slack', secrets: ['s'], body: 'text' }],
    ['hmac with an unknown body format', { provider: 'hmac', secrets: ['s'], header: 'X-Sig', body: 'xml' }],
    ['twilio without publicUrl', { provider: 'twilio', secrets: ['s'] }],
    ['twilio with a relative publicUrl', { provider: 'twilio', secrets: ['s'], publicUrl: '/flows/sms/run' }],
    ['twilio with a publicUrl that is not http(s)', { provider: 'twilio', secrets: ['s'], publicUrl: 'ftp://example.com/x' }],
    ['twilio with a query in publicUrl', { provider: 'twilio', secrets: ['s'], publicUrl: 'https://example.com/x?a=1' }],
    ['publicUrl on another provider', { provider: 'github', secrets: ['s'], publicUrl: 'https://example.com/x' }],
    ['discord without publicKey', { provider: 'discord' }],
    ['discord with secrets instead of publicKey', { provider: 'discord', secrets: ['s'] }],
    ['discord with a key that is not hex', { provider: 'discord', publicKey: 'z'.repeat(64) }],
    ['discord with a key of the wrong length', { provider: 'discord', publicKey: 'ab'.repeat(31) }],
    ['discord with an empty key list', { provider: 'discord', publicKey: [] }],
    ['publicKey on another provider', { provider: 'zoom', secrets: ['s'], publicKey: 'ab'.repeat(32) }],
    ['twitch with a secret shorter than Twitch allows', { provider: 'twitch', secrets: ['short'] }],
    ['twitch with a secret that is not ASCII', { provider: 'twitch', secrets: ['sécret-sécret-sécret'] }],
  ])('throws TypeError at construction for %s', (_what, options) => {
    expect(build(options)).toThrow(TypeError);
  });

  it('never puts a secret in the error message', () => {
    expect(build({ provider: 'slack', secrets: ['do-not-print-me\n'] })).toThrow(/secrets\[0\]/);
    expect(build({ provider: 'slack', secrets: ['do-not-print-me\n'] })).not.toThrow(/do-not-print-me/);
  });

  it('copies the secret list, so later changes to the caller’s array do not reach the verifier', async () => {
    const secrets = ['s3cret'];
    const verifier = createWebhookVerifier({ provider: 'hmac', secrets, header: 'X-Sig' });
    secrets.length = 0;
    const headers = new Headers({ 'X-Sig': '0'.repeat(64) });
    expect(await verifier.verify(headers, new Uint8Array(), 0)).toEqual({ ok: false, reason: 'signature does not match' });
  });
});
