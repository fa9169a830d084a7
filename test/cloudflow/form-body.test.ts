import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formBody, formEncode } from '../../src/cloudflow/signing/encoding.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('formBody: the form body as UTF-8 bytes', () => {
  it('is byte for byte the UTF-8 of formEncode for any well-formed text, in insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: undefined })), (params) => {
        expect(formBody(params)).toEqual(new TextEncoder().encode(formEncode(params)));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes every ASCII character as RFC 3986 says: only A-Z a-z 0-9 - _ . ~ stay', () => {
    const ascii = String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i));
    const encoded = text(formBody({ Input: ascii })).slice('Input='.length);
    expect(decodeURIComponent(encoded)).toBe(ascii);
    expect(encoded.replace(/%[0-9A-F]{2}/g, '')).toBe('-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~');
  });

  it("encodes ! ' ( ) *, which encodeURIComponent leaves alone, and multi-byte characters byte by byte", () => {
    expect(text(formBody({ Input: `!'()* é 😀` }))).toBe('Input=%21%27%28%29%2A%20%C3%A9%20%F0%9F%98%80');
  });

  it('encodes a value given as UTF-8 bytes exactly as its text, without decoding it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (value, flow) => {
        expect(formBody({ FlowName: flow, Input: new TextEncoder().encode(value) })).toEqual(formBody({ FlowName: flow, Input: value }));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes every byte value 0x00-0xff given as bytes as RFC 3986 says, each on its own', () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const encoded = text(formBody({ Input: every })).slice('Input='.length);
    const expected = Array.from(every, (b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'),
    ).join('');
    expect(encoded).toBe(expected);
  });

  it('gives a view of exactly the body, whatever the room it was written in', () => {
    const body = formBody({ FlowName: 'f', Input: new TextEncoder().encode('{"a":1}') });
    expect(body.byteLength).toBe('FlowName=f&Input=%7B%22a%22%3A1%7D'.length);
    expect(text(body)).toBe('FlowName=f&Input=%7B%22a%22%3A1%7D');
  });

  it('skips undefined values and gives an empty body for no fields', () => {
    expect(text(formBody({ FlowName: 'f', ExecutionName: undefined, Input: '{}' }))).toBe('FlowName=f&Input=%7B%7D');
    expect(formBody({}).byteLength).toBe(0);
    expect(formBody({ A: undefined }).byteLength).toBe(0);
  });

  it('refuses a lone surrogate as encodeURIComponent does (no Input can hold one: it is decoded UTF-8 or JSON.stringify output)', () => {
    expect(() => formBody({ Input: 'a\ud800b' })).toThrow(URIError);
  });
});
