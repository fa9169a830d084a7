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
 * Per byte, what RFC 3986 percent-encoding writes for it, packed little-endian into one 32-bit word: the byte
 * itself for an unreserved one, `%XY` (three bytes) otherwise. A value above 0xff means three bytes.
 */
const PERCENT = (() => {
  const hex = '0123456789ABCDEF';
  const table = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b);
    table[b] = /[A-Za-z0-9\-_.~]/.test(c) ? b : 0x25 | (hex.charCodeAt(b >> 4) << 8) | (hex.charCodeAt(b & 15) << 16);
  }
  return table;
})();

/**
 * Percent-encodes UTF-8 bytes into `out` at `at` (RFC 3986, as {@link encodeRfc3986} does for their text) and
 * returns the index after the last byte written. `out` must have room for 3 bytes per input byte plus 1: every
 * byte is written as one unaligned 32-bit store and the index moves by 1 or 3, which has no branch to mispredict.
 * On a 48 KiB JSON Input the form body took 153–163 µs this way against 184–199 µs by decoding the text, running
 * `encodeURIComponent` and copying the result (`node bench/input-check.mjs`; docs/benchmarks.md, "Large Inputs").
 */
function percentEncodeInto(bytes: Uint8Array, out: DataView, at: number): number {
  for (let i = 0; i < bytes.length; i++) {
    const packed = PERCENT[bytes[i]!]!;
    out.setUint32(at, packed, true);
    at += packed > 0xff ? 3 : 1;
  }
  return at;
}

/**
 * Room to encode a form body in, reused by every call (the encoding is synchronous) and copied out at the exact size:
 * a fresh buffer of three times the Input's size per call cost more in allocation, zero-filling and the garbage
 * collector's external-memory accounting than the encoding itself at 48 KiB. Bodies needing more than
 * {@link SCRATCH_LIMIT} bytes of room get a buffer of their own, so one huge Input does not pin its room for good.
 */
let scratch = new DataView(new ArrayBuffer(4096));
const SCRATCH_LIMIT = 1 << 20;

/**
 * `formEncode(params)` as bytes (the encoding is ASCII, so its UTF-8 is the same text): the body of the signed
 * upstream call, hashed for `x-acs-content-sha256` and sent as it is. A value may be given as its UTF-8 bytes
 * instead of its text (a JSON body's Input as the caller sent it), which is then encoded byte by byte without
 * being decoded. On a 48 KiB Input the string form kept large strings on the V8 heap for as long as the call was
 * in flight (the joined rope, flattened when it was hashed, and the copy the transport made to send it), and
 * scavenges copied them while the call waited (docs/benchmarks.md, "Large Inputs"); the body lives outside the
 * heap, in a buffer of its exact size. Throws `URIError` for a lone surrogate in a text value, as
 * `encodeURIComponent` does; bytes are encoded as they are.
 */
export function formBody(params: Record<string, string | Uint8Array | undefined>): Bytes {
  const pieces: (string | Uint8Array)[] = [];
  let room = 4;
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    const piece = (pieces.length > 0 ? '&' : '') + encodeRfc3986(name) + '=';
    const encoded = typeof value === 'string' ? encodeRfc3986(value) : value;
    pieces.push(piece, encoded);
    room += piece.length + (typeof encoded === 'string' ? encoded.length : 3 * encoded.byteLength);
  }
  let view = scratch;
  if (room > view.byteLength) {
    view = new DataView(new ArrayBuffer(Math.max(room, 2 * view.byteLength)));
    if (view.byteLength <= SCRATCH_LIMIT) scratch = view;
  }
  const out = new Uint8Array(view.buffer);
  let at = 0;
  for (const piece of pieces)
    at = typeof piece === 'string' ? at + asciiEncoder.encodeInto(piece, out.subarray(at)).written : percentEncodeInto(piece, view, at);
  return out.slice(0, at);
}

/** `params` with every value given as UTF-8 bytes decoded to its text (for the signatures that sign the fields). */
export function formText(params: Record<string, string | Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in params) {
    const value = params[name]!;
    out[name] = typeof value === 'string' ? value : utf8Decoder.decode(value);
  }
  return out;
}

const utf8Decoder = new TextDecoder();
