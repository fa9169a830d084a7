import { gatewayError } from '../errors.js';
import { utf8 } from '../lib/bytes.js';
import { checkJsonObject, type JsonObjectCheck } from '../lib/json-check.js';
import { jsonDepthExceeds } from '../lib/json-depth.js';

/**
 * The execution Input: the text sent upstream, its value, and the text's UTF-8 size in bytes. For a JSON body
 * `value` is parsed from `text` on first read: most requests never read it (only `inputSchema`, a webhook
 * handshake or a delivery id in the body do), and on a large body the parse and its garbage were the largest
 * cost of the request (docs/benchmarks.md, "Large Inputs").
 */
export interface DecodedInput {
  readonly text: string;
  readonly value: Record<string, unknown>;
  readonly bytes: number;
  /**
   * The text's UTF-8 bytes when the gateway holds them anyway (a JSON body as sent, less a leading BOM), so the
   * upstream call can encode them without decoding the text; absent otherwise.
   */
  readonly utf8?: Uint8Array | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
// For bytes already checked and with their BOM dropped: decoded exactly as they are.
const exactDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function hasBom(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** The body as text (a leading BOM dropped). Throws 400 `InvalidArgument` when it is not UTF-8. */
export function bodyText(raw: Uint8Array): string {
  try {
    return decoder.decode(raw);
  } catch {
    throw gatewayError('InvalidArgument', 'The body is not valid UTF-8.');
  }
}

/**
 * Whether a body's text says nothing: empty, or only JSON's whitespace (RFC 8259: space, tab, LF, CR). Not
 * `text.trim() === ''`, which also drops every other Unicode space and U+FEFF, and so took a body of a no-break
 * space, or of a second byte order mark, for an empty one instead of for text that is not JSON.
 */
export function isBlankJson(text: string): boolean {
  return JSON_BLANK.test(text);
}

const JSON_BLANK = /^[ \t\n\r]*$/;

/**
 * A JSON body as the Input: the body text itself, not re-serialized, which keeps numbers such as
 * 12345678901234567890 exact and costs no second serialization. An empty body is `{}`. Throws 400
 * `InvalidArgument` for text that is not UTF-8, not JSON, not an object, or nested deeper than `maxJsonDepth`.
 */
export function jsonInput(raw: Uint8Array, maxJsonDepth: number): DecodedInput {
  const text = bodyText(raw);
  if (isBlankJson(text)) return { text: '{}', value: {}, bytes: 2 };
  checkJsonText(text, maxJsonDepth, 'The body');
  // The decoder checked the bytes and drops only a leading BOM: without it they are the text's UTF-8 exactly.
  return new RawJsonInput(hasBom(raw) ? raw.subarray(3) : raw);
}

/**
 * A checked JSON body whose text is decoded again from the raw bytes on each read instead of being kept. The
 * request holds its Input for as long as its execution runs, and a kept text is a string on the V8 heap that every
 * young-generation collection copies meanwhile: at 48 KiB and 50 connections that was most of what each scavenge
 * copied (docs/benchmarks.md, "Large Inputs"). The bytes live outside the heap, and a read (the form body, a cache
 * key) costs one native UTF-8 decode, far less than the copying it saves.
 */
class RawJsonInput implements DecodedInput {
  /** The checked UTF-8 of the text, without a BOM. */
  readonly utf8: Uint8Array;
  #value: Record<string, unknown> | undefined;

  constructor(utf8: Uint8Array) {
    this.utf8 = utf8;
  }

  get bytes(): number {
    return this.utf8.byteLength;
  }

  get text(): string {
    return exactDecoder.decode(this.utf8);
  }

  /** Parsed on first read and kept: only `inputSchema`, a webhook handshake or a delivery id in the body read it. */
  get value(): Record<string, unknown> {
    // Checked when the Input was made, so the parse cannot throw.
    return (this.#value ??= JSON.parse(this.text) as Record<string, unknown>);
  }
}

function checkJsonText(text: string, maxJsonDepth: number, what: string): void {
  const found = checkJsonObject(text, maxJsonDepth);
  if (found !== 'ok') throw gatewayError('InvalidArgument', notAnObjectMessage(found, text, maxJsonDepth, what));
}

/**
 * JSON text that must be an object (a body, or a form field holding JSON) as the Input, the text kept as
 * it is. `bytes` is its UTF-8 size; `what` names it in messages (`The body`, `The "payload" field`).
 */
export function jsonTextInput(text: string, bytes: number, maxJsonDepth: number, what: string): DecodedInput {
  checkJsonText(text, maxJsonDepth, what);
  let value: Record<string, unknown> | undefined;
  return {
    text,
    bytes,
    // Checked above, so the parse cannot throw; parsed at most once.
    get value() {
      return (value ??= JSON.parse(text) as Record<string, unknown>);
    },
  };
}

function notAnObjectMessage(found: Exclude<JsonObjectCheck, 'ok'>, text: string, maxJsonDepth: number, what: string): string {
  // A text that is both broken and too deep is called too deep, as when depth was scanned before parsing.
  if (found === 'depth' || (found === 'syntax' && jsonDepthExceeds(text, maxJsonDepth))) return `${what} is nested deeper than ${maxJsonDepth} levels of JSON.`;
  if (found === 'syntax') return `${what} is not valid JSON.`;
  return `${what} must be a JSON object, got ${found === 'null' ? 'null' : found === 'array' ? 'an array' : `a ${found}`}.`;
}

/** A value built by the gateway (form fields, `{"body": text}`) as the Input: its JSON serialization. */
export function valueInput(value: Record<string, unknown>): DecodedInput {
  const text = JSON.stringify(value);
  return { text, value, bytes: utf8(text).byteLength };
}
