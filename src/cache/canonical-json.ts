/**
 * Canonical JSON text for cache keys: object keys sorted (UTF-16 code-unit order) at every depth,
 * no insignificant whitespace, strings re-serialized (so `"\u0061"` and `"a"` agree), and numbers
 * normalized through parse and serialize (`1.0`, `1e0` and `10E-1` all become `1`).
 *
 * It works on the request text, not on `JSON.parse` output, for two reasons the key must respect,
 * because the upstream receives the text and not our parse of it:
 * - A number that a double cannot hold exactly (12345678901234567891) keeps its exact decimal value,
 *   so it never shares a key with its rounded neighbour.
 * - Duplicate object keys are all kept, in their original relative order; a parser that keeps the
 *   first and one that keeps the last would read them differently, so they never merge.
 *
 * The text must already be valid JSON (parseInput checked it); anything else throws.
 */
export function canonicalJson(text: string): string {
  const parser = new Canonicalizer(text);
  parser.skipWhitespace();
  const out = parser.value();
  parser.skipWhitespace();
  if (parser.pos !== text.length) throw new SyntaxError('canonicalJson: trailing characters');
  return out;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON strings may not hold raw control characters, so the pattern must name them.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
/** A string literal with no escape and no surrogate is already in canonical form (the common case). */
const NEEDS_RESERIALIZING = /[\\\ud800-\udfff]/;
/** Integers of up to 15 digits are exact doubles: their literal is their canonical form. */
const SAFE_INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;

class Canonicalizer {
  pos = 0;
  constructor(private readonly text: string) {}

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const ch = t.charCodeAt(this.pos);
      if (ch !== 0x20 && ch !== 0x0a && ch !== 0x0d && ch !== 0x09) break;
      this.pos++;
    }
  }

  value(): string {
    const ch = this.text.charCodeAt(this.pos);
    if (ch === 0x7b) return this.object();
    if (ch === 0x5b) return this.array();
    if (ch === 0x22) return this.string();
    if (ch === 0x74 /* t */ && this.text.startsWith('true', this.pos)) return this.literal('true');
    if (ch === 0x66 /* f */ && this.text.startsWith('false', this.pos)) return this.literal('false');
    if (ch === 0x6e /* n */ && this.text.startsWith('null', this.pos)) return this.literal('null');
    return this.number();
  }

  private literal(word: string): string {
    this.pos += word.length;
    return word;
  }

  /** A string literal; one without escapes, control characters or surrogates is already canonical and is sliced as it is. */
  private string(): string {
    const t = this.text;
    const start = this.pos;
    const n = t.length;
    for (let i = start + 1; i < n; i++) {
      const ch = t.charCodeAt(i);
      if (ch === 0x22) {
        this.pos = i + 1;
        return t.slice(start, i + 1);
      }
      if (ch === 0x5c || ch < 0x20 || (ch >= 0xd800 && ch <= 0xdfff)) break;
    }
    return this.unusualString();
  }

  private unusualString(): string {
    STRING.lastIndex = this.pos;
    const match = STRING.exec(this.text);
    if (!match) throw new SyntaxError(`canonicalJson: bad string at ${this.pos}`);
    this.pos += match[0].length;
    const literal = match[0];
    return NEEDS_RESERIALIZING.test(literal) ? JSON.stringify(JSON.parse(literal) as string) : literal;
  }

  private number(): string {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) throw new SyntaxError(`canonicalJson: unexpected character at ${this.pos}`);
    this.pos += match[0].length;
    return canonicalNumber(match[0]);
  }

  private array(): string {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return '[]';
    }
    let out = '[';
    for (;;) {
      this.skipWhitespace();
      out += this.value();
      this.skipWhitespace();
      const ch = this.text[this.pos++];
      if (ch === ']') return out + ']';
      if (ch !== ',') throw new SyntaxError(`canonicalJson: expected , or ] at ${this.pos - 1}`);
      out += ',';
    }
  }

  private object(): string {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return '{}';
    }
    const keys: string[] = [];
    const sortKeys: string[] = [];
    const values: string[] = [];
    let inOrder = true;
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') throw new SyntaxError(`canonicalJson: expected a key at ${this.pos}`);
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos++] !== ':') throw new SyntaxError(`canonicalJson: expected : at ${this.pos - 1}`);
      this.skipWhitespace();
      // Only a re-serialized key can still hold a backslash (\n, \", …); it sorts by what it means.
      const sortKey = key.indexOf('\\') === -1 ? key.slice(1, -1) : (JSON.parse(key) as string);
      if (inOrder && sortKeys.length > 0 && sortKey < sortKeys[sortKeys.length - 1]!) inOrder = false;
      keys.push(key);
      sortKeys.push(sortKey);
      values.push(this.value());
      this.skipWhitespace();
      const ch = this.text[this.pos++];
      if (ch === '}') break;
      if (ch !== ',') throw new SyntaxError(`canonicalJson: expected , or } at ${this.pos - 1}`);
    }
    let out = '{';
    if (inOrder) {
      for (let i = 0; i < keys.length; i++) out += (i ? ',' : '') + keys[i] + ':' + values[i];
      return out + '}';
    }
    // Array.prototype.sort is stable, so duplicate keys keep their relative order.
    const order = keys.map((_, i) => i);
    order.sort((a, b) => (sortKeys[a]! < sortKeys[b]! ? -1 : sortKeys[a]! > sortKeys[b]! ? 1 : 0));
    for (let i = 0; i < order.length; i++) out += (i ? ',' : '') + keys[order[i]!] + ':' + values[order[i]!];
    return out + '}';
  }
}

/**
 * A number literal through parse and serialize when that keeps its value exactly; otherwise its
 * exact decimal value written as `<digits>e<exponent>` (still valid JSON, and distinct).
 */
export function canonicalNumber(literal: string): string {
  if (SAFE_INTEGER.test(literal)) return literal === '-0' ? '0' : literal;
  const exact = decimalValue(literal);
  const serialized = String(Number(literal));
  if (/^-?\d/.test(serialized) && decimalValue(serialized.replace('e+', 'e')) === exact) return serialized === '-0' ? '0' : serialized;
  return exact;
}

/** The exact value of a decimal literal as `[-]<digits without leading or trailing zeros>e<exponent>`, zero as `0`. */
function decimalValue(literal: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return literal;
  const [, sign, int, frac = '', exp = '0'] = match;
  let digits = (int! + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  // Exponents beyond 2^53 cannot come from a body within any size limit; BigInt keeps the arithmetic exact anyway.
  let exponent = BigInt(exp) - BigInt(frac.length);
  const trimmed = digits.replace(/0+$/, '');
  exponent += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${sign}${digits}e${exponent}`;
}
