import type { Bytes } from '../../lib/bytes.js';

/**
 * RFC 3986 percent-encoding as Alibaba Cloud's signers define it: unreserved `A-Z a-z 0-9 - _ . ~` stay,
 * everything else becomes `%XY` (uppercase hex). encodeURIComponent leaves `! ' ( ) *` alone, so they are fixed up.
 */
export function encodeRfc3986(value: string): string {
  const encoded = encodeURIComponent(value);
  // The fix-up's regex scan cost a quarter of encoding a large Input; five indexOf scans of the
  // original are far cheaper and usually find nothing (encodeURIComponent adds none of these).
  return hasSubDelims(value) ? encoded.replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase()) : encoded;
}

function hasSubDelims(value: string): boolean {
  return value.indexOf('!') !== -1 || value.indexOf("'") !== -1 || value.indexOf('(') !== -1 || value.indexOf(')') !== -1 || value.indexOf('*') !== -1;
}

/** `k=v&k=v` with names sorted by UTF-16 code unit order, as both signature versions require. */
export function canonicalParams(params: Record<string, string>): string {
  const names = Object.keys(params).sort();
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (i > 0) out += '&';
    out += encodeRfc3986(name) + '=' + encodeRfc3986(params[name]!);
  }
  return out;
}

/**
 * Form body in RFC 3986 encoding, in insertion order, so that form and RPC canonical strings agree byte for byte.
 * The signed upstream call sends `formBody` instead, the same text as UTF-8 bytes.
 */
export function formEncode(params: Record<string, string | undefined>): string {
  let out = '';
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    if (out) out += '&';
    out += encodeRfc3986(name) + '=' + encodeRfc3986(value);
  }
  return out;
}

const asciiEncoder = new TextEncoder();

/**
 * `formEncode(params)` as bytes (the encoding is ASCII, so its UTF-8 is the same text): the body of the signed
 * upstream call, hashed for `x-acs-content-sha256` and sent as it is. On a 48 KiB Input the string form kept large
 * strings on the V8 heap for as long as the call was in flight (the joined rope, flattened when it was hashed, and
 * the copy the transport made to send it), and scavenges copied them while the call waited (docs/benchmarks.md,
 * "Large Inputs"). Here each field is encoded natively and copied once into one buffer of the exact size, outside
 * the V8 heap; the encoded strings die at once. Throws `URIError` for a lone surrogate, as `encodeURIComponent` does.
 */
export function formBody(params: Record<string, string | undefined>): Bytes {
  const pieces: string[] = [];
  let size = 0;
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    const piece = (pieces.length > 0 ? '&' : '') + encodeRfc3986(name) + '=';
    const encoded = encodeRfc3986(value);
    pieces.push(piece, encoded);
    size += piece.length + encoded.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const piece of pieces) at += asciiEncoder.encodeInto(piece, out.subarray(at)).written;
  return out;
}
