import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, deliveryIdFromBody } from '../../src/webhooks/index.js';
import { BODY, NOW_MS, NOW_SEC, signSlack, slackSignature, utf8 } from './support.js';

// Slack's own walk-through ("Verifying requests from Slack"): signing secret, timestamp, slash-command body, signature.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

describe('slack preset', () => {
  const verifier = createWebhookVerifier({ provider: 'slack', secrets: [DOC_SECRET] });

  it("accepts Slack's documented example request", async () => {
    const headers = new Headers({ 'X-Slack-Signature': DOC_SIGNATURE, 'X-Slack-Request-Timestamp': DOC_TIMESTAMP });
    expect(await verifier.verify(headers, utf8(DOC_BODY), Number(DOC_TIMESTAMP) * 1000 + 2_000)).toEqual({ ok: true });
  });

  it('refuses the documented example replayed later than the tolerance', async () => {
    const headers = new Headers({ 'X-Slack-Signature': DOC_SIGNATURE, 'X-Slack-Request-Timestamp': DOC_TIMESTAMP });
    expect((await verifier.verify(headers, utf8(DOC_BODY), Number(DOC_TIMESTAMP) * 1000 + 301_000)).ok).toBe(false);
  });

  it("accepts a request signed with Slack's documented algorithm", async () => {
    expect(await verifier.verify(signSlack(BODY, DOC_SECRET), utf8(BODY), NOW_MS)).toEqual({ ok: true });
  });

  it('returns the retry headers so the caller can recognise a resend', async () => {
    const headers = signSlack(BODY, DOC_SECRET);
    headers.set('X-Slack-Retry-Num', '2');
    headers.set('X-Slack-Retry-Reason', 'http_timeout');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true, retryNum: 2, retryReason: 'http_timeout' });
  });

  it('drops retry headers that are not plausible values instead of failing', async () => {
    const headers = signSlack(BODY, DOC_SECRET);
    headers.set('X-Slack-Retry-Num', 'many');
    headers.set('X-Slack-Retry-Reason', 'a reason with spaces');
    expect(await verifier.verify(headers, utf8(BODY), NOW_MS)).toEqual({ ok: true });
  });

  it('verifies a body that is not valid UTF-8 by its bytes', async () => {
    const body = new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const headers = new Headers({ 'X-Slack-Signature': slackSignature(body, DOC_SECRET), 'X-Slack-Request-Timestamp': String(NOW_SEC) });
    expect((await verifier.verify(headers, body, NOW_MS)).ok).toBe(true);
    expect((await verifier.verify(headers, new Uint8Array([0x7b, 0xef, 0xbf, 0xbd, 0x00, 0x7d]), NOW_MS)).ok).toBe(false);
  });

  it('gives the Events API event_id from the parsed body', () => {
    const callback = { token: 'x', team_id: 'T1', type: 'event_callback', event_id: 'Ev08MFMKH6', event: { type: 'app_mention' } };
    expect(deliveryIdFromBody('slack', callback)).toBe('Ev08MFMKH6');
    expect(deliveryIdFromBody('slack', { command: '/weather' })).toBeUndefined();
  });
});
