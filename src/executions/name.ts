import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../lib/bytes.js';

/** Ids made only of these characters are their own encoding: generated UUIDs take this path. */
const PLAIN = /^[A-Za-z0-9-]*$/;
/** What the escaping encoding can carry: the request-id alphabet. */
const ENCODABLE = /^[A-Za-z0-9._:-]*$/;
const ESCAPED = /[_.:]/g;
const ESCAPES: Record<string, string> = { _: '__', '.': '_d', ':': '_c' };
const escape = (char: string): string => ESCAPES[char]!;
const CARRIED = /^[A-Za-z0-9._:-]*/;
const TRAILING_UNDERSCORES = /_+$/;
const ENCODED_PREFIX = 'fg_';
const HASHED_PREFIX = 'fh_';
/** Room for the encoding after `fg_`. */
const MAX_ENCODED = 128 - ENCODED_PREFIX.length;
/** Readable head of a hashed name: `fh_` + head + `_` + 64 hex digits fills the 128 characters at most. */
const MAX_HEAD = 128 - HASHED_PREFIX.length - 1 - 64;

/**
 * The execution name a request gets when it chose none, derived from its request id so that logs and
 * CloudFlow executions correlate. Injective: two different ids never give the same name, so one request
 * can never be refused or confused because of another's name. Every result follows CloudFlow's naming rule (`CLOUDFLOW_NAME`).
 *
 * - `fg_<id>` when the id is letters, digits and `-` only (generated UUIDs: `fg_0b6f2c9e-…`).
 * - `fg_<escaped id>` otherwise: `_` becomes `__`, `.` becomes `_d`, `:` becomes `_c` (a prefix-free code,
 *   so the name decodes back to the id: `order.42` is `fg_order_d42`, `order:42` is `fg_order_c42`).
 * - `fh_<head>_<SHA-256 of the id, hex>` when the escaped id would pass 128 characters, or the id holds a
 *   character outside `[A-Za-z0-9._:-]`; the head is the escaped id's first characters, for reading only.
 *   No injective encoding can fit every 128-character request id into 125 name characters (the request-id
 *   alphabet is one character larger), so long ids are hashed rather than truncated.
 */
export function executionNameFor(requestId: string): string {
  if (requestId.length <= MAX_ENCODED && PLAIN.test(requestId)) return ENCODED_PREFIX + requestId;
  if (ENCODABLE.test(requestId)) {
    const encoded = requestId.replace(ESCAPED, escape);
    if (encoded.length <= MAX_ENCODED) return ENCODED_PREFIX + encoded;
  }
  return `${HASHED_PREFIX}${readableHead(requestId)}_${toHex(sha256(utf8(requestId)))}`;
}

/** The escaped id's first characters, up to the first character it cannot carry, never cut inside an escape. */
function readableHead(requestId: string): string {
  const carried = CARRIED.exec(requestId)![0].slice(0, MAX_HEAD);
  let head = carried.replace(ESCAPED, escape).slice(0, MAX_HEAD);
  // Plain characters are never `_` and every escape starts with one, so an odd run of `_` at the end is a cut escape.
  const run = head.length - head.replace(TRAILING_UNDERSCORES, '').length;
  if (run % 2 === 1) head = head.slice(0, -1);
  return head;
}
