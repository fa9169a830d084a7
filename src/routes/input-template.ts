import type { Conversion, ReferenceSource, TemplateNode } from '../config/routes.js';
import { gatewayError } from '../errors.js';
import { utf8 } from '../lib/bytes.js';
import { jsonDepthExceeds } from '../lib/json-depth.js';
import { bodyText, isBlankJson, jsonInput, type DecodedInput } from '../middleware/input.js';

/** Where a route's references read from. Only what a template names is ever asked for. */
export interface TemplateSources {
  /** Path parameters, already decoded. */
  path: Record<string, string>;
  /** The first value of a query parameter, decoded; undefined when absent. */
  query(name: string): string | undefined;
  /** A request header by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** The raw request body (empty when the route reads none). */
  body: Uint8Array;
  maxJsonDepth: number;
}

const SOURCE_NAMES: Record<ReferenceSource, string> = { path: 'path parameter', query: 'query parameter', headers: 'header' };
const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A piece of the Input: its JSON text (exact as the client sent any number) and its value. */
interface Rendered {
  text: string;
  value: unknown;
}

/**
 * Builds a route's Input from the request. The text is assembled piece by piece, with the body's own JSON text
 * spliced in, so numbers such as 12345678901234567890 reach the flow exactly as sent; the value is what
 * `inputSchema` is checked against. A missing query parameter, header or body leaves its key (or array item) out.
 * Throws 400 `InvalidArgument` for a value that does not convert to the type the flow's `inputSchema` gives its
 * place, and for a body that is not UTF-8 JSON (an object, when it is the whole Input); messages name the
 * parameter, never its value.
 */
export function renderInput(template: TemplateNode, sources: TemplateSources): DecodedInput {
  if (template.kind === 'body') return jsonInput(sources.body, sources.maxJsonDepth);
  const rendered = render(template, sources)!;
  return { text: rendered.text, value: rendered.value as Record<string, unknown>, bytes: utf8(rendered.text).byteLength };
}

function render(node: TemplateNode, sources: TemplateSources): Rendered | undefined {
  switch (node.kind) {
    case 'literal':
      return { text: JSON.stringify(node.value), value: node.value };
    case 'ref': {
      const raw = node.source === 'path' ? sources.path[node.name] : node.source === 'query' ? sources.query(node.name) : sources.header(node.name);
      return raw === undefined ? undefined : convert(raw, node.convert, `The ${SOURCE_NAMES[node.source]} "${node.name}"`);
    }
    case 'body':
      return bodyValue(sources);
    case 'object': {
      const value: Record<string, unknown> = {};
      const parts: string[] = [];
      for (const [key, child] of node.entries) {
        const piece = render(child, sources);
        if (!piece) continue;
        value[key] = piece.value;
        parts.push(`${JSON.stringify(key)}:${piece.text}`);
      }
      return { text: `{${parts.join(',')}}`, value };
    }
    case 'array': {
      const value: unknown[] = [];
      const parts: string[] = [];
      for (const child of node.items) {
        const piece = render(child, sources);
        if (!piece) continue;
        value.push(piece.value);
        parts.push(piece.text);
      }
      return { text: `[${parts.join(',')}]`, value };
    }
  }
}

/**
 * A string value as the type its place asks for. Integers keep every digit in the text (beyond 2^53 the value
 * checked against the schema is the nearest double); numbers follow JSON's grammar; booleans are `true` or `false`.
 */
function convert(raw: string, to: Conversion, what: string): Rendered {
  switch (to) {
    case 'string':
      return { text: JSON.stringify(raw), value: raw };
    case 'integer': {
      if (!INTEGER.test(raw)) throw gatewayError('InvalidArgument', `${what} must be an integer.`);
      const negative = raw.startsWith('-');
      const digits = (negative ? raw.slice(1) : raw).replace(/^0+(?=\d)/, '');
      const text = negative && digits !== '0' ? `-${digits}` : digits;
      return { text, value: Number(text) };
    }
    case 'number': {
      const value = Number(raw);
      if (!NUMBER.test(raw) || !Number.isFinite(value)) throw gatewayError('InvalidArgument', `${what} must be a number.`);
      return { text: raw, value };
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw gatewayError('InvalidArgument', `${what} must be true or false.`);
      return { text: raw, value: raw === 'true' };
  }
}

function bodyValue(sources: TemplateSources): Rendered | undefined {
  const text = bodyText(sources.body);
  if (isBlankJson(text)) return undefined;
  if (jsonDepthExceeds(text, sources.maxJsonDepth))
    throw gatewayError('InvalidArgument', `The body is nested deeper than ${sources.maxJsonDepth} levels of JSON.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw gatewayError('InvalidArgument', 'The body is not valid JSON.');
  }
  return { text: text.trim(), value };
}
