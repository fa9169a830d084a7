/**
 * The built-in functions of FDL expressions.
 *
 * Documented (CloudFlow FDL, "Built-in functions"): arrayContains, arrayUnique, format, fromBase64, stringToJson
 * (alias fromJSON), hash (MD5/SHA-1/SHA-256/SHA-512), jsonMerge, length, mapKeys, mapValues, regexMatchString,
 * split, toArray, get, intAdd, randomInt, uuid. The documentation lists names and a few examples only; argument orders and edge
 * cases not shown there are inferred and marked below. `toBase64` and `jsonToString` are the inferred
 * counterparts of the documented `fromBase64` and `stringToJson`.
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64, toHex, utf8 } from '../../../lib/bytes.js';
import { ErrorNames, StateFailure } from '../errors.js';
import { fromBigInt, isIntegerText, isNumeric, JsonDepthError, numericText, parseExact, stringifyExact } from '../json.js';
import { deepEqual, isObject, toDisplayString, typeName } from './values.js';

/** Sources of randomness, injected so that tests are reproducible, and the nesting limit `stringToJson` parses to. */
export interface BuiltinEnvironment {
  /** A float in [0, 1). */
  random(): number;
  uuid(): string;
  maxDepth: number;
}

type Builtin = (args: unknown[], env: BuiltinEnvironment) => unknown;

const fail = (message: string): never => {
  throw new StateFailure(ErrorNames.RuntimeError, message);
};

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(`${name}() takes ${expected} argument(s), got ${args.length}`);
  }
}

function arrayArg(name: string, value: unknown): unknown[] {
  return Array.isArray(value) ? value : fail(`${name}() expects an array, got ${typeName(value)}`);
}

function mapArg(name: string, value: unknown): Record<string, unknown> {
  return isObject(value) ? value : fail(`${name}() expects a map, got ${typeName(value)}`);
}

function stringArg(name: string, value: unknown): string {
  return typeof value === 'string' ? value : fail(`${name}() expects a string, got ${typeName(value)}`);
}

/** A whole number of any size, exactly. */
function bigIntegerArg(name: string, value: unknown): bigint {
  return isNumeric(value) && isIntegerText(value) ? BigInt(numericText(value)) : fail(`${name}() expects an integer, got ${toDisplayString(value ?? null)}`);
}

/** A whole number small enough to count with (an index, a bound). */
function integerArg(name: string, value: unknown): number {
  const n = bigIntegerArg(name, value);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : fail(`${name}() got ${n}, too large to count with`);
}

/**
 * The digests `hash()` offers, the four the FDL documentation lists, with and without the dash. Synchronous
 * (@noble/hashes) rather than Web Crypto's digest, which is asynchronous work off the event loop and would
 * let injected virtual time race ahead of expression evaluation. MD5 and SHA-1 are there because FDL offers
 * them, not for anything security-related.
 */
const HASH_ALGORITHMS: Record<string, (data: Uint8Array) => Uint8Array> = {
  MD5: md5,
  'SHA-1': sha1,
  SHA1: sha1,
  'SHA-256': sha256,
  SHA256: sha256,
  'SHA-512': sha512,
  SHA512: sha512,
};

const BUILTINS: Record<string, Builtin> = {
  arrayContains(args) {
    arity('arrayContains', args, 2);
    return arrayArg('arrayContains', args[0]).some((item) => deepEqual(item, args[1]));
  },

  /** Keeps the first occurrence of each value, in order: `arrayUnique([1,2,3,1])` → `[1,2,3]`. */
  arrayUnique(args) {
    arity('arrayUnique', args, 1);
    const out: unknown[] = [];
    for (const item of arrayArg('arrayUnique', args[0])) if (!out.some((seen) => deepEqual(seen, item))) out.push(item);
    return out;
  },

  /** `format("hello {}", "world")`: each `{}` takes the next argument; non-strings render as JSON. */
  format(args) {
    arity('format', args, 1, Infinity);
    const template = stringArg('format', args[0]);
    const values = args.slice(1);
    const placeholders = template.split('{}').length - 1;
    if (placeholders !== values.length) fail(`format() has ${placeholders} placeholder(s) but ${values.length} value(s)`);
    let i = 0;
    return template.replace(/\{\}/g, () => toDisplayString(values[i++]));
  },

  fromBase64(args) {
    arity('fromBase64', args, 1);
    const bytes = fromBase64(stringArg('fromBase64', args[0])) ?? fail('fromBase64() got a string that is not base64');
    return new TextDecoder().decode(bytes);
  },

  toBase64(args) {
    arity('toBase64', args, 1);
    return toBase64(utf8(stringArg('toBase64', args[0])));
  },

  /** Numbers keep their exact text; text nested deeper than the execution's depth limit is refused. */
  stringToJson(args, env) {
    arity('stringToJson', args, 1);
    const text = stringArg('stringToJson', args[0]);
    try {
      return parseExact(text, env.maxDepth);
    } catch (error) {
      if (error instanceof JsonDepthError) return fail(`stringToJson() got JSON nested deeper than ${env.maxDepth} levels`);
      return fail('stringToJson() got a string that is not JSON');
    }
  },

  jsonToString(args) {
    arity('jsonToString', args, 1);
    return stringifyExact(args[0] ?? null);
  },

  /** Lowercase hex digest of the UTF-8 text (non-strings are hashed as their JSON). */
  hash(args) {
    arity('hash', args, 2);
    const digest =
      HASH_ALGORITHMS[stringArg('hash', args[1]).toUpperCase()] ?? fail(`hash() supports MD5, SHA-1, SHA-256 and SHA-512, not ${toDisplayString(args[1])}`);
    return toHex(digest(utf8(toDisplayString(args[0]))));
  },

  /** Shallow merge; keys of the second map win. Inferred (the documentation shows only the name). */
  jsonMerge(args) {
    arity('jsonMerge', args, 2);
    return { ...mapArg('jsonMerge', args[0]), ...mapArg('jsonMerge', args[1]) };
  },

  /** Elements of an array, keys of a map, or characters (code points) of a string. */
  length(args) {
    arity('length', args, 1);
    const value = args[0];
    if (typeof value === 'string') return [...value].length;
    if (Array.isArray(value)) return value.length;
    if (isObject(value)) return Object.keys(value).length;
    return fail(`length() expects an array, a map or a string, got ${typeName(value)}`);
  },

  mapKeys(args) {
    arity('mapKeys', args, 1);
    return Object.keys(mapArg('mapKeys', args[0]));
  },

  mapValues(args) {
    arity('mapValues', args, 1);
    return Object.values(mapArg('mapValues', args[0]));
  },

  /** `regexMatchString(pattern, text)`: argument order inferred from Go's regexp.MatchString. */
  regexMatchString(args) {
    arity('regexMatchString', args, 2);
    let pattern: RegExp;
    try {
      pattern = new RegExp(stringArg('regexMatchString', args[0]), 'u');
    } catch {
      return fail(`regexMatchString() got an invalid pattern ${toDisplayString(args[0])}`);
    }
    return pattern.test(stringArg('regexMatchString', args[1]));
  },

  split(args) {
    arity('split', args, 2);
    return stringArg('split', args[0]).split(stringArg('split', args[1]));
  },

  /** `toArray(a, b, …)` → `[a, b, …]`. Inferred: the documentation gives the name only. */
  toArray(args) {
    return [...args];
  },

  /** `get(array, index)` or `get(map, key)`; a missing element is null. */
  get(args) {
    arity('get', args, 2);
    const [collection, key] = args;
    if (Array.isArray(collection)) return collection[integerArg('get', key)] ?? null;
    if (isObject(collection)) return Object.hasOwn(collection, stringArg('get', key)) ? collection[key as string] : null;
    return fail(`get() expects an array or a map, got ${typeName(collection)}`);
  },

  /** Exact at any size (BigInt arithmetic). */
  intAdd(args) {
    arity('intAdd', args, 2);
    return fromBigInt(bigIntegerArg('intAdd', args[0]) + bigIntegerArg('intAdd', args[1]));
  },

  /** `randomInt(max)` → [0, max); `randomInt(min, max)` → [min, max). Bounds inferred (Go's rand.Intn). */
  randomInt(args, env) {
    arity('randomInt', args, 1, 2);
    const [min, max] = args.length === 1 ? [0, integerArg('randomInt', args[0])] : [integerArg('randomInt', args[0]), integerArg('randomInt', args[1])];
    if (max <= min) fail(`randomInt() needs max > min, got ${min} and ${max}`);
    return min + Math.floor(env.random() * (max - min));
  },

  uuid(args, env) {
    arity('uuid', args, 0);
    return env.uuid();
  },
};

BUILTINS['fromJSON'] = BUILTINS['stringToJson']!;

export const BUILTIN_NAMES: ReadonlySet<string> = new Set(Object.keys(BUILTINS));

export function callBuiltin(name: string, args: unknown[], env: BuiltinEnvironment): unknown {
  const fn = BUILTINS[name] ?? fail(`unknown function "${name}"`);
  return fn(args, env);
}
