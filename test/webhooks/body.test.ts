/** How a verified webhook body becomes the Input, per sender rule (src/webhooks/body.ts). */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { decodeWebhookBody } from '../../src/webhooks/body.js';
import type { BodyRule } from '../../src/webhooks/types.js';
import { utf8 } from './support.js';

const FORM = 'application/x-www-form-urlencoded';
const decode = (rule: BodyRule, type: string | undefined, body: string | Uint8Array, depth = 64) =>
  decodeWebhookBody(rule, type, typeof body === 'string' ? utf8(body) : body, depth);

function refusal(run: () => unknown): { status: number; code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('webhook bodies', () => {
  it('keeps a JSON body as its own text, big numbers and spacing included', () => {
    const body = '{"big": 12345678901234567890, "x":1.50}';
    const decoded = decode({}, 'application/json; charset=utf-8', body);
    expect({ text: decoded.text, value: decoded.value, bytes: decoded.bytes }).toEqual({ text: body, value: JSON.parse(body), bytes: body.length });
    expect(decode({ form: 'fields' }, 'application/vnd.event+json', body).text).toBe(body);
  });

  it('reads an empty body without a content type as {}, and refuses a non-empty one', () => {
    expect(decode({}, undefined, '')).toEqual({ text: '{}', value: {}, bytes: 2 });
    expect(refusal(() => decode({ form: 'fields' }, undefined, 'a=1'))).toMatchObject({ status: 415 });
  });

  it('turns form fields into an object; a name sent twice becomes an array in the order sent', () => {
    const decoded = decode({ form: 'fields' }, FORM, 'text=staging+now+please&command=%2Fdeploy&tag=b&tag=a&tag=c&empty=&bare');
    expect(decoded.value).toEqual({ text: 'staging now please', command: '/deploy', tag: ['b', 'a', 'c'], empty: '', bare: '' });
    expect(decoded.text).toBe('{"text":"staging now please","command":"/deploy","tag":["b","a","c"],"empty":"","bare":""}');
    expect(decoded.bytes).toBe(utf8(decoded.text).length);
  });

  it('keeps odd field names as fields: __proto__, a leading ?, non-ASCII, bad escapes', () => {
    const decoded = decode({ form: 'fields' }, FORM, '?q=1&__proto__=x&constructor=y&%C3%A9t%C3%A9=%E2%9C%93&bad=%zz');
    expect(decoded.text).toBe('{"?q":"1","__proto__":"x","constructor":"y","été":"✓","bad":"%zz"}');
    expect(Object.getPrototypeOf(decoded.value)).toBeNull();
  });

  it('reads a payload field as JSON, kept as its own text (Slack interactivity, GitHub form hooks)', () => {
    const payload = '{"type":"block_actions","n":12345678901234567890}';
    const body = `payload=${encodeURIComponent(payload)}`;
    for (const form of ['payload', 'payload-or-fields'] as const) {
      expect(decode({ form }, FORM, body)).toEqual({ text: payload, value: JSON.parse(payload), bytes: payload.length });
    }
  });

  it('refuses a payload field that is missing (GitHub), repeated, not JSON, not an object or too deep', () => {
    expect(refusal(() => decode({ form: 'payload' }, FORM, 'a=1')).message).toBe('Parameter error. The form body must have exactly one "payload" field.');
    expect(refusal(() => decode({ form: 'payload-or-fields' }, FORM, 'payload=%7B%7D&payload=%7B%7D')).status).toBe(400);
    expect(refusal(() => decode({ form: 'payload' }, FORM, 'payload=nope')).message).toBe('Parameter error. The "payload" field is not valid JSON.');
    expect(refusal(() => decode({ form: 'payload' }, FORM, 'payload=%5B1%5D')).message).toBe(
      'Parameter error. The "payload" field must be a JSON object, got an array.',
    );
    const deep = encodeURIComponent(`{"a":${'['.repeat(10)}${']'.repeat(10)}}`);
    expect(refusal(() => decode({ form: 'payload' }, FORM, `payload=${deep}`, 8)).message).toBe(
      'Parameter error. The "payload" field is nested deeper than 8 levels of JSON.',
    );
  });

  it('reads a form without a payload field as fields under payload-or-fields (a Slack slash command)', () => {
    expect(decode({ form: 'payload-or-fields' }, FORM, 'command=%2Fdeploy').value).toEqual({ command: '/deploy' });
  });

  it('refuses a form where the sender posts none, naming the types it takes', () => {
    expect(refusal(() => decode({}, FORM, 'a=1'))).toEqual({
      status: 415,
      code: 'UnsupportedMediaType',
      message: 'The content type must be "application/json".',
    });
    expect(refusal(() => decode({ form: 'fields' }, 'text/plain', 'hi'))).toEqual({
      status: 415,
      code: 'UnsupportedMediaType',
      message: 'The content type must be "application/json" or "application/x-www-form-urlencoded".',
    });
  });

  it('with a format, reads every body that way whatever its type: json, form, or text as {"body": …}', () => {
    expect(decode({ form: 'fields', format: 'json' }, 'text/plain', '{"a":1}').text).toBe('{"a":1}');
    expect(decode({ form: 'fields', format: 'form' }, 'application/json', 'a=1&a=2').value).toEqual({ a: ['1', '2'] });
    expect(decode({ form: 'fields', format: 'text' }, 'application/xml', '<ok a="1"/>\n')).toEqual({
      text: '{"body":"<ok a=\\"1\\"/>\\n"}',
      value: { body: '<ok a="1"/>\n' },
      bytes: 26,
    });
    expect(decode({ form: 'fields', format: 'text' }, undefined, '').value).toEqual({ body: '' });
  });

  it('refuses bytes that are not UTF-8 in any format', () => {
    const bad = new Uint8Array([0x61, 0x3d, 0xff]);
    for (const rule of [{ form: 'fields' }, { format: 'text' }, { format: 'json' }] as BodyRule[]) {
      expect(refusal(() => decode(rule, rule.format ? 'text/plain' : FORM, bad)).message).toBe('Parameter error. The body is not valid UTF-8.');
    }
  });
});
