/**
 * Tokenizer for FDL expressions such as `$Input.size >= 1024 && format("{}-x", $Input.id) != ""`. A number keeps
 * its exact text (a LosslessNumber), so `$Input.id == 12345678901234567890` compares with the number as written.
 */
import { isNumber, LosslessNumber } from 'lossless-json';

export type Token =
  | { kind: 'number'; value: number | LosslessNumber; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'variable'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number };

export class ExpressionSyntaxError extends Error {
  override readonly name = 'ExpressionSyntaxError';
}

// Longest first, so that `>=` is not read as `>` then `=`.
const OPERATORS = ['==', '!=', '>=', '<=', '&&', '||', '>', '<', '!', '-', '+', '*', '/', '%', '.', ',', '(', ')', '[', ']'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === '"' || ch === "'" || ch === '`') {
      const { value, end } = readString(source, i);
      tokens.push({ kind: 'string', value, pos: start });
      i = end;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      NUMBER.lastIndex = i;
      const text = NUMBER.exec(source)![0];
      // `007` is not JSON's way to write a number; it reads as the number it looks like.
      tokens.push({ kind: 'number', value: isNumber(text) ? new LosslessNumber(text) : Number(text), pos: start });
      i += text.length;
      continue;
    }
    if (ch === '$') {
      i++;
      while (i < source.length && IDENT_PART.test(source[i]!)) i++;
      tokens.push({ kind: 'variable', value: source.slice(start + 1, i), pos: start });
      continue;
    }
    if (IDENT_START.test(ch)) {
      while (i < source.length && IDENT_PART.test(source[i]!)) i++;
      tokens.push({ kind: 'ident', value: source.slice(start, i), pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw new ExpressionSyntaxError(`unexpected character "${ch}" at position ${i}`);
    tokens.push({ kind: 'op', value: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: 'end', pos: source.length });
  return tokens;
}

/** Backquoted strings are raw (Go-style); quoted ones understand the usual backslash escapes. */
function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start]!;
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\\' && quote !== '`') {
      const next = source[i + 1];
      const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '/': '/' };
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      if (next === undefined || escapes[next] === undefined) throw new ExpressionSyntaxError(`bad escape in string at position ${i}`);
      value += escapes[next];
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new ExpressionSyntaxError(`unterminated string starting at position ${start}`);
}
