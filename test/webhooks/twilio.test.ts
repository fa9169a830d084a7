/**
 * Twilio, against the `twilio` library: it signs (getExpectedTwilioSignature, getExpectedBodyHash), and its
 * own validateRequest / validateRequestWithBody decide what our verifier must accept.
 */
import { parse, stringify } from 'node:querystring';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as twilio from 'twilio/lib/webhooks/webhooks.js';
import { createWebhookVerifier } from '../../src/webhooks/index.js';
import { NOW_MS, TWILIO_FORM, TWILIO_URL, signTwilio, signTwilioJson, utf8 } from './support.js';

const AUTH_TOKEN = '12345678901234567890123456789012';

const verifierAt = (publicUrl: string, secrets = [AUTH_TOKEN]) => createWebhookVerifier({ provider: 'twilio', secrets, publicUrl });

/** The request URL the gateway sees: its own origin and path, then the query Twilio sent. */
const gatewayUrl = (query = '') => `http://10.0.0.7:8787/flows/sms/run${query}`;

describe('twilio preset', () => {
  const verifier = verifierAt(TWILIO_URL);

  it('accepts a form post the library signed, with the idempotency token as delivery id', async () => {
    const headers = signTwilio(TWILIO_FORM, AUTH_TOKEN);
    expect(twilio.validateRequest(AUTH_TOKEN, headers.get('X-Twilio-Signature')!, TWILIO_URL, paramsOf(TWILIO_FORM))).toBe(true);
    expect(await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).toEqual({
      ok: true,
      keyIndex: 0,
      deliveryId: 'RUf23d8e0a2d1b0c7e2e1b9f3f0a1b2c3d-ED1',
    });
  });

  it('signs the public URL with the query string the request came with, not the address the gateway sees', async () => {
    const query = '?flow=inbound&x=%27quoted%27';
    const headers = signTwilio(TWILIO_FORM, AUTH_TOKEN, TWILIO_URL + query);
    expect((await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl(query))).ok).toBe(true);
    expect((await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl('?flow=outbound&x=%27quoted%27'))).ok).toBe(false);
    expect((await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).ok).toBe(false);
  });

  it('refuses a changed, added or removed parameter', async () => {
    const headers = signTwilio(TWILIO_FORM, AUTH_TOKEN);
    for (const form of [TWILIO_FORM.replace('Tag=b', 'Tag=c'), `${TWILIO_FORM}&Extra=1`, TWILIO_FORM.replace('&NumMedia=0', '')]) {
      expect(await verifier.verify(headers, utf8(form), NOW_MS, gatewayUrl())).toEqual({ ok: false, reason: 'signature does not match' });
    }
  });

  it('accepts repeated parameters in any order, as the library sorts their values', async () => {
    const headers = signTwilio(TWILIO_FORM, AUTH_TOKEN);
    const reordered = TWILIO_FORM.replace('Tag=b&Tag=a', 'Tag=a&Tag=b');
    expect((await verifier.verify(headers, utf8(reordered), NOW_MS, gatewayUrl())).ok).toBe(true);
  });

  it('accepts a JSON body through bodySHA256, and refuses one byte changed', async () => {
    const body = JSON.stringify({ MessageSid: 'SM1', Body: 'héllo ✓' });
    const { url, headers } = signTwilioJson(body, AUTH_TOKEN);
    expect(twilio.validateRequestWithBody(AUTH_TOKEN, headers.get('X-Twilio-Signature')!, url, body)).toBe(true);
    const query = url.slice(url.indexOf('?'));
    expect((await verifier.verify(headers, utf8(body), NOW_MS, gatewayUrl(query))).ok).toBe(true);
    expect(await verifier.verify(headers, utf8(body.replace('SM1', 'SM2')), NOW_MS, gatewayUrl(query))).toEqual({
      ok: false,
      reason: 'bodySHA256 does not match the body',
    });
  });

  it('refuses a body the signature does not cover: JSON, text or no parameters without bodySHA256, as validateRequestWithBody does', async () => {
    // What a URL-only signature looks like: Twilio sends one for a JSON body only with bodySHA256 in the URL.
    const urlOnly = twilio.getExpectedTwilioSignature(AUTH_TOKEN, TWILIO_URL, {});
    for (const [type, body] of [
      ['application/json', '{"forged":true}'],
      ['application/json', ''],
      ['text/plain', 'forged'],
      ['application/x-www-form-urlencoded', ''],
      ['application/x-www-form-urlencoded', '&&'],
      [null, ''],
    ] as const) {
      expect(twilio.validateRequestWithBody(AUTH_TOKEN, urlOnly, TWILIO_URL, body)).toBe(false);
      const headers = new Headers({ 'X-Twilio-Signature': urlOnly });
      if (type !== null) headers.set('content-type', type);
      const result = await verifier.verify(headers, utf8(body), NOW_MS, gatewayUrl());
      expect(result.ok, `${type} ${JSON.stringify(body)}`).toBe(false);
      expect((result as { reason: string }).reason).toMatch(/^body is not signed: /);
    }
  });

  it('verifies SharedKey webhooks with HMAC-SHA256 when the settings header says so', async () => {
    const headers = signTwilio(TWILIO_FORM, AUTH_TOKEN, TWILIO_URL, 'RU-1', 'HMAC_SHA256');
    expect((await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).ok).toBe(true);
    headers.delete('X-Twilio-Webhooks-Signature-Settings');
    expect((await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).ok).toBe(false);
    headers.set('X-Twilio-Webhooks-Signature-Settings', 'algorithm=HMAC_MD5');
    expect(await verifier.verify(headers, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).toEqual({
      ok: false,
      reason: 'unsupported algorithm in X-Twilio-Webhooks-Signature-Settings header',
    });
  });

  it('tells which secret matched, and takes the second during rotation', async () => {
    const rotating = verifierAt(TWILIO_URL, ['old-token-0000000000000000000000', AUTH_TOKEN]);
    const result = await rotating.verify(signTwilio(TWILIO_FORM, AUTH_TOKEN), utf8(TWILIO_FORM), NOW_MS, gatewayUrl());
    expect(result).toMatchObject({ ok: true, keyIndex: 1 });
  });

  it("accepts exactly what the library's validateRequest accepts, over ports, escapes and parameters", async () => {
    const host = fc.constantFrom('gateway.example.com', 'gateway.example.com:443', 'gateway.example.com:8443', '[2001:db8::1]');
    const scheme = fc.constantFrom('https', 'http');
    const queryValue = fc.string({ unit: fc.constantFrom(...'aZ09 \'"!*()~%+&=é✓'), maxLength: 8 });
    // What Twilio may have signed: the URL as received, normalized, re-encoded by Node's legacy querystring,
    // on another port, or with another query (the last two the library refuses).
    const variant = fc.constantFrom(
      (url: string) => url,
      (url: string) => new URL(url).toString(),
      (url: string) => (url.includes('?') ? `${url.slice(0, url.indexOf('?'))}?${stringify(parse(url.slice(url.indexOf('?') + 1)))}` : url),
      (url: string) => url.replace('/flows/', ':8443/flows/').replace(/:\d+:8443/, ':8443'),
      (url: string) => `${url}${url.includes('?') ? '&' : '?'}extra=1`,
    );
    const outcomes = { true: 0, false: 0 };
    const param = fc.tuple(fc.constantFrom('Body', 'From', 'Tag', 'To', 'a', 'B'), fc.string({ unit: fc.constantFrom(...'aZ09 +&=%é✓'), maxLength: 6 }));
    await fc.assert(
      fc.asyncProperty(scheme, host, fc.option(queryValue), fc.array(param, { maxLength: 5 }), variant, async (s, h, q, pairs, signedAs) => {
        const publicUrl = `${s}://${h}/flows/sms/run`;
        const query = q === null ? '' : `?q=${q.replace(/[#]/g, '')}`;
        const received = publicUrl + query;
        const form = new URLSearchParams(pairs).toString();
        const headers = signTwilio(form, AUTH_TOKEN, signedAs(received));
        // A form without parameters is refused whatever it was signed with: the signature would cover the URL alone.
        const expected = pairs.length > 0 && twilio.validateRequest(AUTH_TOKEN, headers.get('X-Twilio-Signature')!, received, paramsOf(form));
        const actual = (await verifierAt(publicUrl).verify(headers, utf8(form), NOW_MS, gatewayUrl(query))).ok;
        expect(actual).toBe(expected);
        outcomes[expected ? 'true' : 'false']++;
      }),
      { numRuns: 300 },
    );
    // The property covered both answers.
    expect(outcomes.true).toBeGreaterThan(50);
    expect(outcomes.false).toBeGreaterThan(50);
  });

  it('accepts a signature over the URL with the default port added or removed, as the library does', async () => {
    for (const [configured, signed] of [
      ['https://gateway.example.com/flows/sms/run', 'https://gateway.example.com:443/flows/sms/run'],
      ['https://gateway.example.com:443/flows/sms/run', 'https://gateway.example.com/flows/sms/run'],
      ['http://gateway.example.com/flows/sms/run', 'http://gateway.example.com:80/flows/sms/run'],
    ] as const) {
      expect((await verifierAt(configured).verify(signTwilio(TWILIO_FORM, AUTH_TOKEN, signed), utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).ok).toBe(true);
    }
    const otherPort = signTwilio(TWILIO_FORM, AUTH_TOKEN, 'https://gateway.example.com:8443/flows/sms/run');
    expect((await verifier.verify(otherPort, utf8(TWILIO_FORM), NOW_MS, gatewayUrl())).ok).toBe(false);
  });
});

/** Form parameters as Express hands them to the library: a repeated name becomes an array. */
function paramsOf(form: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(form)) {
    const seen = params[name];
    params[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}
