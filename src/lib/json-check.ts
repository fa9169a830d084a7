/**
 * What `checkJsonObject` found: `ok` (a JSON object within the depth limit), `syntax` (not JSON), `depth`
 * (objects and arrays nested deeper than the limit), or the type of a valid JSON text that is not an object.
 */
export type JsonObjectCheck = 'ok' | 'syntax' | 'depth' | 'null' | 'array' | 'string' | 'number' | 'boolean';

const OBJECT = 1;
const ARRAY = 2;

/**
 * Checks in one pass, without building anything, that `text` is JSON (RFC 8259, the grammar `JSON.parse`
 * accepts), that it is an object, and that objects and arrays nest at most `maxDepth` deep (`{}` is depth 1).
 * It replaces a depth scan followed by `JSON.parse` on the path where nothing reads the parsed value: on a
 * 48 KiB body the parse and the garbage it leaves cost far more than the scan (docs/benchmarks.md). The scan
 * is iterative, so a hostile `[[[[…` is refused at `maxDepth + 1` without recursion.
 */
export function checkJsonObject(text: string, maxDepth: number): JsonObjectCheck {
  const n = text.length;
  // Strings are skipped with indexOf (native, far faster than a loop here) unless they hold a backslash, or
  // the text holds a control character anywhere (pretty-printed JSON): then every string is checked char by char.
  const strings: StringScan = { text, fast: !CONTROL.test(text), backslash: text.indexOf('\\') };
  // kinds[d] is OBJECT or ARRAY for the container open at depth d + 1.
  const kinds: number[] = [];
  let depth = 0;
  let i = skipSpace(text, 0);
  const first = i < n ? text.charCodeAt(i) : -1;
  value: for (;;) {
    const c = i < n ? text.charCodeAt(i) : -1;
    if (c === 0x7b /* { */) {
      if (++depth > maxDepth) return 'depth';
      kinds[depth - 1] = OBJECT;
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === 0x7d /* } */) {
        depth--;
        i++;
      } else {
        i = member(strings, i);
        if (i < 0) return 'syntax';
        continue value;
      }
    } else if (c === 0x5b /* [ */) {
      if (++depth > maxDepth) return 'depth';
      kinds[depth - 1] = ARRAY;
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === 0x5d /* ] */) {
        depth--;
        i++;
      } else continue value;
    } else if (c === 0x22 /* " */) {
      i = skipString(strings, i);
    } else if (c === 0x74 /* t */) {
      i = text.startsWith('true', i) ? i + 4 : -1;
    } else if (c === 0x66 /* f */) {
      i = text.startsWith('false', i) ? i + 5 : -1;
    } else if (c === 0x6e /* n */) {
      i = text.startsWith('null', i) ? i + 4 : -1;
    } else {
      i = numberEnd(text, i);
    }
    if (i < 0) return 'syntax';
    // After a value: close containers, or a comma and the next value (with its key in an object).
    for (;;) {
      i = skipSpace(text, i);
      if (depth === 0) break value;
      const next = text.charCodeAt(i);
      const kind = kinds[depth - 1];
      if (next === 0x2c /* , */) {
        i = skipSpace(text, i + 1);
        if (kind === OBJECT) {
          i = member(strings, i);
          if (i < 0) return 'syntax';
        }
        continue value;
      }
      if ((next === 0x7d && kind === OBJECT) || (next === 0x5d && kind === ARRAY)) {
        depth--;
        i++;
        continue;
      }
      return 'syntax';
    }
  }
  if (i !== n) return 'syntax';
  if (first === 0x7b) return 'ok';
  if (first === 0x5b) return 'array';
  if (first === 0x22) return 'string';
  if (first === 0x6e) return 'null';
  if (first === 0x74 || first === 0x66) return 'boolean';
  return 'number';
}

function skipSpace(text: string, i: number): number {
  const n = text.length;
  // Bounds checked before each read: an out-of-range charCodeAt deoptimizes the function.
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Any C0 control character: raw, they are only allowed as whitespace between tokens, never inside strings. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f]/;

interface StringScan {
  text: string;
  /** No control character anywhere in the text. */
  fast: boolean;
  /** The index of the next backslash at or after the last string skipped, or -1. */
  backslash: number;
}

/** The index after the string that opens at `i`, or -1: by indexOf when nothing in it needs a closer look. */
function skipString(scan: StringScan, i: number): number {
  if (scan.fast) {
    const end = scan.text.indexOf('"', i + 1);
    if (end < 0) return -1;
    if (scan.backslash !== -1 && scan.backslash < i) scan.backslash = scan.text.indexOf('\\', i);
    if (scan.backslash === -1 || scan.backslash > end) return end + 1;
  }
  return stringEnd(scan.text, i);
}

/** `"key" :` and the space after it; the index of the member's value, or -1. */
function member(scan: StringScan, i: number): number {
  const text = scan.text;
  if (text.charCodeAt(i) !== 0x22) return -1;
  i = skipString(scan, i);
  if (i < 0) return -1;
  i = skipSpace(text, i);
  if (text.charCodeAt(i) !== 0x3a /* : */) return -1;
  return skipSpace(text, i + 1);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The index after the string that opens at `i` (a quote), or -1: no control characters, only JSON's escapes. */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      const e = text.charCodeAt(++i);
      if (e === 0x75 /* u */) {
        if (!(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) && isHex(text.charCodeAt(i + 4)))) return -1;
        i += 4;
      } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) return -1;
    }
  }
  return -1;
}

function digitsEnd(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  return i;
}

/** The index after the number at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, or -1. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d /* - */) i++;
  const lead = text.charCodeAt(i);
  if (lead === 0x30) i++;
  else if (lead >= 0x31 && lead <= 0x39) i = digitsEnd(text, i + 1);
  else return -1;
  if (text.charCodeAt(i) === 0x2e /* . */) {
    const end = digitsEnd(text, i + 1);
    if (end === i + 1) return -1;
    i = end;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    const end = digitsEnd(text, i);
    if (end === i) return -1;
    i = end;
  }
  return i;
}
