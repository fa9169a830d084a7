/**
 * The engine's JSON values and every walk over them.
 *
 * Numbers keep their exact text: JSON text is parsed with lossless-json, which gives each number as a
 * `LosslessNumber` (its text), and written back with that text, so `12345678901234567890` and `1e400` leave an
 * execution as they came in (a double would turn them into `12345678901234567000` and `null`). Numbers the
 * engine makes itself (lengths, sums) are plain `number`s.
 *
 * Depth: lossless-json's parser is recursive, so text is measured before it is parsed (`jsonDepthExceeds`, a scan
 * without recursion) and refused past the limit; every other walk here (writing, copying, comparing, measuring)
 * keeps its own stack instead of the call stack, so no value the engine holds can overflow it.
 *
 * Values inside an execution are never changed once made: constructors and built-ins make new ones, handlers get
 * copies (`toHandlerValue`) and give back copies (`fromHandlerValue`), and `$Global` is replaced, not changed. A
 * value once read therefore stays as it was read.
 */
import { compareNumber, isLosslessNumber, isSafeNumber, LosslessNumber, parse } from 'lossless-json';
import { jsonDepthExceeds } from '../../lib/json-depth.js';

export { isLosslessNumber, LosslessNumber };

/** The default deepest nesting of an Input, and of any state's data. */
export const DEFAULT_MAX_DEPTH = 1000;
/**
 * The largest depth limit allowed: lossless-json's recursive parser handles about 4,400 levels from a shallow
 * stack, so this leaves room for the frames below it.
 */
export const MAX_DEPTH_LIMIT = 2000;

/** Text or a value nested deeper than the limit (or a value that contains itself, which is endlessly deep). */
export class JsonDepthError extends Error {
  override readonly name = 'JsonDepthError';
  constructor(readonly limit: number) {
    super(`nested deeper than ${limit} levels`);
  }
}

/** A value larger than the limit, found while copying it. */
export class JsonSizeError extends Error {
  override readonly name = 'JsonSizeError';
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/**
 * Parses JSON text with every number as a `LosslessNumber`. A repeated key keeps its last value, as `JSON.parse`
 * does. Throws `JsonDepthError` for text nested deeper than `maxDepth` (before parsing), `SyntaxError` for text that
 * is not JSON.
 */
export function parseExact(text: string, maxDepth: number): unknown {
  if (jsonDepthExceeds(text, maxDepth)) throw new JsonDepthError(maxDepth);
  return parse(text, null, { onDuplicateKey: ({ newValue }) => newValue });
}

/** JSON text of an engine value, numbers as their exact text. `undefined` in an object is left out, in an array is null. */
export function stringifyExact(value: unknown): string {
  let out = '';
  // Either a value still to write or a piece of punctuation, in reverse order of writing.
  const work: Array<{ value: unknown } | string> = [{ value }];
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === 'string') {
      out += item;
      continue;
    }
    const v = item.value;
    if (v === null || v === undefined) out += 'null';
    else if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') out += JSON.stringify(v);
    else if (isLosslessNumber(v)) out += v.value;
    else if (Array.isArray(v)) {
      work.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        work.push({ value: v[i] });
        if (i > 0) work.push(',');
      }
      out += '[';
    } else if (typeof v === 'object') {
      const entries = Object.entries(v).filter(([, child]) => child !== undefined);
      work.push('}');
      for (let i = entries.length - 1; i >= 0; i--) {
        work.push({ value: entries[i]![1] });
        work.push((i > 0 ? ',' : '') + JSON.stringify(entries[i]![0]) + ':');
      }
      out += '{';
    } else out += 'null';
  }
  return out;
}

/** How deeply a value nests (a scalar is 0, `{}` is 1), counting no further than `limit + 1`. */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const work: Array<[unknown, number]> = [[value, 0]];
  while (work.length > 0) {
    const [v, depth] = work.pop()!;
    if (v === null || typeof v !== 'object' || isLosslessNumber(v)) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) work.push([child, here]);
  }
  return deepest;
}

/** Structural equality; numbers by value, exactly (`1.0 == 1`, `12345678901234567890 != 12345678901234567891`). */
export function deepEqual(a: unknown, b: unknown): boolean {
  const work: Array<[unknown, unknown]> = [[a, b]];
  while (work.length > 0) {
    const [x, y] = work.pop()!;
    if (x === y) continue;
    if (isNumeric(x) || isNumeric(y)) {
      if (isNumeric(x) && isNumeric(y) && compareNumeric(x, y) === 0) continue;
      return false;
    }
    if ((x ?? null) === (y ?? null)) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) work.push([x[i], y[i]]);
      continue;
    }
    if (!isJsonObject(x) || !isJsonObject(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      work.push([x[key], y[key]]);
    }
  }
  return true;
}

/** A JSON object: not null, not an array, not a number. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

export type Numeric = number | LosslessNumber;

export function isNumeric(value: unknown): value is Numeric {
  return typeof value === 'number' || isLosslessNumber(value);
}

/** The number as JSON writes it. */
export function numericText(value: Numeric): string {
  return typeof value === 'number' ? (Number.isFinite(value) ? JSON.stringify(value) : 'null') : value.value;
}

const ZERO = /^-?0+(?:\.0+)?(?:[eE][+-]?\d+)?$/;

/** Exact comparison of two numbers by value: -1, 0 or 1. */
export function compareNumeric(a: Numeric, b: Numeric): -1 | 0 | 1 {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const x = numericText(a);
  const y = numericText(b);
  // lossless-json compares the sign first, so -0 and 0 would differ.
  const xZero = ZERO.test(x);
  const yZero = ZERO.test(y);
  if (xZero || yZero) {
    const sign = (text: string, zero: boolean) => (zero ? 0 : text.startsWith('-') ? -1 : 1);
    const d = sign(x, xZero) - sign(y, yZero);
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }
  return compareNumber(x, y) as -1 | 0 | 1;
}

/** Whether the number is written as a whole number (`12`, `-7`; not `1.0` or `1e3`). */
export function isIntegerText(value: Numeric): boolean {
  return /^-?\d+$/.test(numericText(value));
}

/** The number as a double, or undefined when a double would not be finite (`1e400`). */
export function toDouble(value: Numeric): number | undefined {
  const n = typeof value === 'number' ? value : Number(value.value);
  return Number.isFinite(n) ? n : undefined;
}

/** A whole number as a plain number when it is safe to compute with as one, else a LosslessNumber. */
export function fromBigInt(value: bigint): Numeric {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : new LosslessNumber(value.toString());
}

interface CopyLimits {
  maxDepth: number;
  /** Roughly the bytes of JSON the copy may come to. Default: unlimited. */
  maxBytes?: number;
}

/**
 * A copy of an engine value for a handler: a number a double holds exactly becomes a plain `number`; any other
 * stays a `LosslessNumber` (`String(n)` is its exact text; doing arithmetic with it throws rather than round).
 */
export function toHandlerValue(value: unknown, maxDepth: number): unknown {
  return copyJson(value, { maxDepth }, (v) => (isLosslessNumber(v) && isSafeNumber(v.value) ? Number(v.value) : v));
}

/**
 * What a handler returned (or an `execute()` caller passed), as an engine value: what `JSON.stringify` would keep
 * (`toJSON()` is called, `undefined` and functions are left out of objects and are null in arrays, non-finite
 * numbers are null), with `bigint`s and `LosslessNumber`s kept exactly. Throws `JsonDepthError` past `maxDepth`
 * (a value that contains itself is endlessly deep), `JsonSizeError` past `maxBytes`.
 */
export function fromHandlerValue(value: unknown, limits: CopyLimits): unknown {
  return copyJson(value, limits, (v) => {
    if (typeof v === 'bigint') return new LosslessNumber(v.toString());
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    return v;
  });
}

const OMIT = Symbol('omit');

/** Copies a value with a stack of its own, converting each scalar with `scalar`. */
function copyJson(value: unknown, limits: CopyLimits, scalar: (v: unknown) => unknown): unknown {
  const maxBytes = limits.maxBytes ?? Infinity;
  let bytes = 0;
  const count = (n: number) => {
    bytes += n;
    if (bytes > maxBytes) throw new JsonSizeError(maxBytes);
  };
  let result: unknown;
  const work: Array<{ value: unknown; depth: number; set: (v: unknown) => void }> = [{ value, depth: 0, set: (v) => (result = v) }];
  while (work.length > 0) {
    const { value: raw, depth, set } = work.pop()!;
    let v = raw;
    if (typeof v === 'object' && v !== null && !isLosslessNumber(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf();
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') {
      set(OMIT);
      continue;
    }
    if (v === null || typeof v !== 'object' || isLosslessNumber(v)) {
      const converted = scalar(v);
      count(typeof converted === 'string' ? converted.length + 2 : 8);
      set(converted);
      continue;
    }
    if (depth + 1 > limits.maxDepth) throw new JsonDepthError(limits.maxDepth);
    count(2);
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      set(out);
      for (let i = v.length - 1; i >= 0; i--) work.push({ value: v[i], depth: depth + 1, set: (child) => (out[i] = child === OMIT ? null : child) });
      continue;
    }
    const out: Record<string, unknown> = {};
    set(out);
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      count(key.length + 3);
      work.push({
        value: (v as Record<string, unknown>)[key],
        depth: depth + 1,
        // defineProperty, so that a "__proto__" key is a key like any other.
        set: (child) => child !== OMIT && Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true }),
      });
    }
  }
  return result === OMIT ? undefined : result;
}
