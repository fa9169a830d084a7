import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import { META_SCHEMA_2020_12, META_VOCABULARIES_2020_12 } from './meta-2020-12.js';

/**
 * JSON Schema 2020-12 through @cfworker/json-schema: it interprets schemas instead of generating code, so it
 * runs on Workers, where Ajv's `new Function` is refused. Schemas come from the config: checked once at load
 * (`schemaProblems`), compiled once per app (`compileSchema`), never per request.
 */

/** One failing place of an instance: an RFC 6901 JSON pointer (`""` is the whole Input) and the keyword that failed. */
export interface SchemaViolation {
  pointer: string;
  keyword: string;
}

/** Keywords that only report that one of their subschemas failed; the subschema's own error says where and why. */
const APPLICATORS = new Set([
  '$ref',
  '$recursiveRef',
  'allOf',
  'properties',
  'patternProperties',
  'additionalProperties',
  'items',
  'prefixItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'dependentSchemas',
  'then',
  'else',
  'propertyNames',
]);

let metaValidator: Validator | undefined;

function meta(): Validator {
  if (!metaValidator) {
    metaValidator = new Validator(structuredClone(META_SCHEMA_2020_12) as unknown as Schema, '2020-12', false);
    for (const vocabulary of META_VOCABULARIES_2020_12) metaValidator.addSchema(structuredClone(vocabulary) as unknown as Schema);
  }
  return metaValidator;
}

/** A problem with a schema: where in the schema (a JSON pointer, `""` for the whole), and what. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

/**
 * What is wrong with a schema given in the config, [] for a valid one: the 2020-12 meta-schema (at most 10
 * places, with the meta-schema keyword that failed), then what it cannot see. A `$ref` must point inside the
 * schema itself (`#`, `#/$defs/...`): flowgate fetches nothing at run time. Never quotes a value.
 */
export function schemaProblems(schema: unknown): SchemaProblem[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return [{ pointer: '', message: 'expected a JSON Schema object' }];
  const root = schema as Record<string, unknown>;
  if (root.$schema !== undefined && root.$schema !== 'https://json-schema.org/draft/2020-12/schema') {
    return [{ pointer: '/$schema', message: 'only JSON Schema 2020-12 ("https://json-schema.org/draft/2020-12/schema") is supported' }];
  }
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const unit of leafErrors(meta().validate(schema).errors)) {
    const pointer = pointerOf(unit.instanceLocation);
    if (seen.has(pointer)) continue;
    seen.add(pointer);
    problems.push({ pointer, message: `not valid by the JSON Schema 2020-12 meta-schema (${unit.keyword})` });
    if (problems.length === 10) break;
  }
  if (problems.length) return problems;
  const refs: string[] = [];
  collectRefs(schema, '', refs);
  for (const at of refs) {
    const ref = pointerValue(schema, at) as string;
    if (!ref.startsWith('#') || resolveLocal(schema, ref) === undefined)
      problems.push({ pointer: at, message: 'must point inside this schema ("#" or "#/$defs/...")' });
  }
  if (root.$id !== undefined) problems.push({ pointer: '/$id', message: 'not supported; the schema is identified by its place in the config' });
  return problems;
}

/** A JSON pointer as the dotted key-path suffix config messages use: `/properties/a~1b` → `.properties.a/b`. */
export function pointerAsKeyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`)
    .join('');
}

/**
 * A checked schema, compiled once: `validate(value)` gives at most `max` violations (pointer and keyword, never
 * the value), [] when the value is valid. `schema` must have passed `schemaProblems`.
 */
export function compileSchema(schema: unknown, max = 10): (value: unknown) => SchemaViolation[] {
  const validator = new Validator(structuredClone(schema) as Schema | boolean, '2020-12', false);
  return (value) => {
    const result = validator.validate(value);
    if (result.valid) return [];
    const seen = new Set<string>();
    const out: SchemaViolation[] = [];
    let applicator = 'false';
    for (const unit of result.errors) {
      if (APPLICATORS.has(unit.keyword)) {
        applicator = unit.keyword;
        continue;
      }
      // `false` is a boolean subschema (additionalProperties: false): the keyword that holds it, reported just before, is what a reader knows.
      const keyword = unit.keyword === 'false' ? applicator : unit.keyword;
      const violation = { pointer: pointerOf(unit.instanceLocation), keyword };
      const key = `${violation.pointer}\n${keyword}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(violation);
      if (out.length === max) break;
    }
    return out;
  };
}

/**
 * The subschema that describes the value at `path` (object keys and array indexes) of an instance, following
 * `properties`, `prefixItems`, `items` and local `$ref`s; undefined where the schema says nothing that precise.
 */
export function subschemaAt(schema: unknown, path: readonly (string | number)[]): Record<string, unknown> | undefined {
  let node = deref(schema, schema);
  for (const step of path) {
    if (!node) return undefined;
    if (typeof step === 'number') {
      const prefix = node.prefixItems;
      node = deref(schema, Array.isArray(prefix) && step < prefix.length ? prefix[step] : node.items);
    } else {
      const properties = node.properties as Record<string, unknown> | undefined;
      node = deref(schema, properties && Object.hasOwn(properties, step) ? properties[step] : undefined);
    }
  }
  return node;
}

function deref(root: unknown, node: unknown): Record<string, unknown> | undefined {
  for (let hops = 0; hops < 16; hops++) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    const ref = (node as Record<string, unknown>).$ref;
    if (typeof ref !== 'string') return node as Record<string, unknown>;
    node = resolveLocal(root, ref);
  }
  return undefined;
}

function leafErrors(errors: readonly OutputUnit[]): OutputUnit[] {
  return errors.filter((unit) => !APPLICATORS.has(unit.keyword));
}

/** `#/a/b~1c` (cfworker's instance locations, URI fragments) as the JSON pointer `/a/b~1c`. */
function pointerOf(location: string): string {
  const fragment = location.startsWith('#') ? location.slice(1) : location;
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}

function collectRefs(node: unknown, at: string, out: string[]): void {
  if (Array.isArray(node)) return node.forEach((value, i) => collectRefs(value, `${at}/${i}`, out));
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    // Keywords whose values are data, not subschemas: a "$ref" key inside them is not a reference.
    if (key === 'const' || key === 'enum' || key === 'examples' || key === 'default') continue;
    if (key === '$ref' && typeof value === 'string') out.push(here);
    else collectRefs(value, here, out);
  }
}

function pointerValue(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function resolveLocal(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  return pointerValue(root, pointer);
}
