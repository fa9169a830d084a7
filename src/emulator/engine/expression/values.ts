/** JSON value helpers shared by the evaluator and the built-ins; the walks themselves are in ../json.ts. */
import { deepEqual, isJsonObject, isNumeric, numericText, stringifyExact } from '../json.js';

export type JsonObject = Record<string, unknown>;

export { deepEqual };

/** A JSON object (a map): not null, not an array, not a number. */
export function isObject(value: unknown): value is JsonObject {
  return isJsonObject(value);
}

/** A short type name for error messages. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (isNumeric(value)) return 'number';
  return isObject(value) ? 'map' : typeof value;
}

/** How a value reads inside `format()` and string concatenation: strings raw, numbers as their exact text, the rest as JSON. */
export function toDisplayString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isNumeric(value)) return numericText(value);
  return stringifyExact(value);
}
