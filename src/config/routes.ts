import * as z from 'zod';
import { subschemaAt } from '../schema/json-schema.js';

/**
 * `routes:` REST routes of the operator's own (`GET /v1/orders/:id`), each running an exposed flow with an Input
 * built from the request by a template. No expression language: a template value is a literal, a whole-string
 * reference (`{path.id}`, `{query.expand}`, `{headers.x-channel}`), `{body}`, or an object or array of these.
 */

export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** The sources a reference reads. Path, query and header values are strings until converted. */
export type ReferenceSource = 'path' | 'query' | 'headers';
/** What a string value becomes, from the flow's `inputSchema` at the reference's place. */
export type Conversion = 'string' | 'integer' | 'number' | 'boolean';

/** A compiled Input template: plain data, so a config stays serializable. */
export type TemplateNode =
  | { kind: 'literal'; value: unknown }
  | { kind: 'ref'; source: ReferenceSource; name: string; convert: Conversion }
  | { kind: 'body' }
  | { kind: 'object'; entries: [string, TemplateNode][] }
  | { kind: 'array'; items: TemplateNode[] };

export interface RouteConfig {
  method: RouteMethod;
  /** The template as configured: `/v1/orders/:id`. */
  path: string;
  /** The exposed flow it runs. */
  flow: string;
  description?: string | undefined;
  /** Path segments: a literal, or `{ param }` for `:name`. */
  segments: ({ literal: string } | { param: string })[];
  /** The Input template, compiled; its root is an object node or `{body}`. */
  input: TemplateNode;
  /** Whether the template reads the body; a route that does not never reads one. */
  readsBody: boolean;
  /** Where this route sits in the config (`routes.3`), for messages. */
  key: string;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
/** RFC 3986 unreserved characters plus the sub-delims that need no escaping in a path segment; not `*`, which reads as a wildcard. */
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REFERENCE = /^\{([A-Za-z]+)(?:\.([^{}]*))?\}$/;
const PARTIAL_REFERENCE = /\{(?:path|query|headers)\.[^{}]*\}|\{body\}/;

export const routeSchema = z.strictObject({
  method: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(ROUTE_METHODS)),
  path: z.string().min(1),
  flow: z.string().min(1),
  description: z.string().optional(),
  /** Default: `{body}` for methods with a body, `{}` for GET and DELETE. */
  input: z.unknown().optional(),
});
export type ParsedRoute = z.output<typeof routeSchema>;

/**
 * The paths flowgate answers itself, as templates. A route that could match one of them is refused, and so is
 * any route under `/flows/` or `/executions/`, which stay the gateway's.
 */
export const GATEWAY_PATHS = ['/flows', '/flows/:name/run', '/flows/:name/cache', '/executions/:name', '/healthz', '/readyz', '/openapi.json', '/metrics'];
const RESERVED_FIRST_SEGMENTS = new Set(['flows', 'executions']);

/** The slice of a flow that routes depend on. */
export interface RouteFlowView {
  inputSchema?: unknown;
  webhook?: unknown;
  qualifiers: readonly string[];
}

/**
 * Checks and compiles `routes:` against the exposed flows. Problems are pushed to `issues`, each starting with
 * its key path (`routes.2.input.orderId: ...`); a problem route is left out of the result.
 */
export function compileRoutes(raw: readonly ParsedRoute[], flows: Record<string, RouteFlowView>, issues: string[]): RouteConfig[] {
  const out: RouteConfig[] = [];
  const seen = new Map<string, string>();
  const names = new Map<string, { params: string; key: string }>();
  raw.forEach((route, i) => {
    const key = `routes.${i}`;
    const before = issues.length;
    const flow = Object.hasOwn(flows, route.flow) ? flows[route.flow] : undefined;
    if (!flow) issues.push(`${key}.flow: not an exposed flow (a key under "flows")`);
    else if (flow.webhook) issues.push(`${key}.flow: a webhook flow is run by its sender at /flows/{name}/run, not through a route`);
    const segments = parsePath(route.path, `${key}.path`, issues);
    if (!segments) return;
    const params = segments.flatMap((s) => ('param' in s ? [s.param] : []));
    const shape = `${route.method} ${shapeOf(segments)}`;
    const other = seen.get(shape);
    if (other) issues.push(`${key}.path: ${route.method} ${route.path} is the same route as ${other}`);
    else seen.set(shape, `${key} (${route.method} ${route.path})`);
    // One path, one set of names: OpenAPI counts /a/{id} and /a/{orderId} as the same path, and callers would too.
    const named = names.get(shapeOf(segments));
    if (named && named.params !== params.join(',')) issues.push(`${key}.path: names its parameters unlike ${named.key}, which has the same path`);
    else if (!named) names.set(shapeOf(segments), { params: params.join(','), key });
    const template = route.input === undefined ? (route.method === 'GET' || route.method === 'DELETE' ? {} : '{body}') : route.input;
    const context: TemplateContext = { params, schema: flow?.inputSchema, issues, readsBody: false, qualifiers: flow?.qualifiers ?? [] };
    const input = compileRoot(template, `${key}.input`, context);
    if (issues.length > before || !input) return;
    out.push({ method: route.method, path: route.path, flow: route.flow, description: route.description, segments, input, readsBody: context.readsBody, key });
  });
  return out;
}

/** Declared path parameters the Input never reads: loads, but the value is thrown away. */
export function routeWarnings(routes: readonly RouteConfig[]): string[] {
  const warnings: string[] = [];
  for (const route of routes) {
    const read = new Set<string>();
    visit(route.input, (node) => {
      if (node.kind === 'ref' && node.source === 'path') read.add(node.name);
    });
    for (const segment of route.segments) {
      if ('param' in segment && !read.has(segment.param)) warnings.push(`${route.key}.path: the path parameter "${segment.param}" is not used by the input`);
    }
  }
  return warnings;
}

/** `GET /v1/orders/:id -> get-order`: one line per route, for `flowgate check` and logs. */
export function describeRoute(route: Pick<RouteConfig, 'method' | 'path' | 'flow'>): string {
  return `${route.method.padEnd(6)} ${route.path} -> flow ${route.flow}`;
}

/** `/v1/orders/:id` as `/v1/orders/{id}` (OpenAPI path templating). */
export function openApiPath(route: Pick<RouteConfig, 'segments'>): string {
  return '/' + route.segments.map((s) => ('param' in s ? `{${s.param}}` : s.literal)).join('/');
}

/** Calls `fn` on every node of a template. */
export function visit(node: TemplateNode, fn: (node: TemplateNode) => void): void {
  fn(node);
  if (node.kind === 'object') for (const [, child] of node.entries) visit(child, fn);
  else if (node.kind === 'array') for (const child of node.items) visit(child, fn);
}

function parsePath(path: string, key: string, issues: string[]): RouteConfig['segments'] | undefined {
  if (!path.startsWith('/')) {
    issues.push(`${key}: must start with "/"`);
    return undefined;
  }
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  const segments: RouteConfig['segments'] = [];
  const names = new Set<string>();
  let ok = true;
  parts.forEach((part, i) => {
    const param = PARAM.exec(part);
    if (param) {
      if (names.has(param[1]!)) {
        issues.push(`${key}: the path parameter "${param[1]}" is declared twice`);
        ok = false;
      }
      names.add(param[1]!);
      segments.push({ param: param[1]! });
    } else if (part === '') {
      issues.push(`${key}: ${i === parts.length - 1 ? 'must not end with "/"' : 'has an empty segment'}`);
      ok = false;
    } else if (part.startsWith(':')) {
      issues.push(`${key}: a path parameter is ":" and a name of letters, digits and _`);
      ok = false;
    } else if (!LITERAL_SEGMENT.test(part)) {
      issues.push(`${key}: a segment holds characters that need escaping, or a pattern (no wildcards or regular expressions)`);
      ok = false;
    } else segments.push({ literal: part });
  });
  if (!ok) return undefined;
  const first = segments[0];
  if (first && 'literal' in first && RESERVED_FIRST_SEGMENTS.has(first.literal)) {
    issues.push(`${key}: /${first.literal}/ belongs to flowgate's own routes`);
    return undefined;
  }
  for (const own of GATEWAY_PATHS) {
    if (overlaps(segments, own)) {
      issues.push(`${key}: could match flowgate's own ${own}`);
      return undefined;
    }
  }
  return segments;
}

function shapeOf(segments: RouteConfig['segments']): string {
  return '/' + segments.map((s) => ('param' in s ? ':' : s.literal)).join('/');
}

function overlaps(segments: RouteConfig['segments'], own: string): boolean {
  const theirs = own.slice(1).split('/');
  if (theirs.length !== segments.length) return false;
  return segments.every((s, i) => 'param' in s || theirs[i]!.startsWith(':') || theirs[i] === s.literal);
}

interface TemplateContext {
  params: string[];
  schema: unknown;
  issues: string[];
  readsBody: boolean;
  qualifiers: readonly string[];
}

function compileRoot(template: unknown, key: string, context: TemplateContext): TemplateNode | undefined {
  if (typeof template === 'string' && template === '{body}') {
    context.readsBody = true;
    return { kind: 'body' };
  }
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    context.issues.push(`${key}: the Input is a JSON object: a mapping of keys to values, or "{body}"`);
    return undefined;
  }
  return compileNode(template, key, [], context);
}

function compileNode(value: unknown, key: string, path: (string | number)[], context: TemplateContext): TemplateNode | undefined {
  if (typeof value === 'string') return compileString(value, key, path, context);
  if (Array.isArray(value)) {
    const items: TemplateNode[] = [];
    value.forEach((item, i) => {
      const node = compileNode(item, `${key}.${i}`, [...path, i], context);
      if (node) items.push(node);
    });
    return { kind: 'array', items };
  }
  if (value !== null && typeof value === 'object') {
    const entries: [string, TemplateNode][] = [];
    for (const [name, child] of Object.entries(value)) {
      const node = compileNode(child, `${key}.${name}`, [...path, name], context);
      if (node) entries.push([name, node]);
    }
    return { kind: 'object', entries };
  }
  return { kind: 'literal', value };
}

function compileString(value: string, key: string, path: (string | number)[], context: TemplateContext): TemplateNode | undefined {
  const match = REFERENCE.exec(value);
  if (!match) {
    if (PARTIAL_REFERENCE.test(value)) {
      context.issues.push(`${key}: a reference is a whole value ("{path.id}"); there is no string interpolation`);
      return undefined;
    }
    return { kind: 'literal', value };
  }
  const [, source, name] = match;
  if (source === 'body') {
    if (name !== undefined) {
      context.issues.push(`${key}: the body is referenced whole, as "{body}"`);
      return undefined;
    }
    context.readsBody = true;
    return { kind: 'body' };
  }
  if (source !== 'path' && source !== 'query' && source !== 'headers') {
    context.issues.push(`${key}: unknown source; a reference reads "{path.<name>}", "{query.<name>}", "{headers.<name>}" or "{body}"`);
    return undefined;
  }
  if (!name) {
    context.issues.push(`${key}: "{${source}.<name>}" needs a name`);
    return undefined;
  }
  if (source === 'path' && !context.params.includes(name)) {
    context.issues.push(`${key}: the path declares no parameter "${name}"`);
    return undefined;
  }
  if (source === 'headers' && !HEADER_NAME.test(name)) {
    context.issues.push(`${key}: not a header name (an RFC 9110 token)`);
    return undefined;
  }
  if (source === 'query' && name === 'qualifier' && context.qualifiers.length) {
    context.issues.push(`${key}: the flow lists qualifiers, so ?qualifier= chooses its version and cannot also be Input`);
    return undefined;
  }
  return { kind: 'ref', source, name: source === 'headers' ? name.toLowerCase() : name, convert: conversionAt(context.schema, path) };
}

/** Strings stay strings unless the schema types the place as integer, number or boolean (and not also string). */
function conversionAt(schema: unknown, path: (string | number)[]): Conversion {
  if (schema === undefined) return 'string';
  const type = subschemaAt(schema, path)?.type;
  const types = typeof type === 'string' ? [type] : Array.isArray(type) ? (type as unknown[]) : [];
  if (types.length === 0 || types.includes('string')) return 'string';
  if (types.includes('number')) return 'number';
  if (types.includes('integer')) return 'integer';
  if (types.includes('boolean')) return 'boolean';
  return 'string';
}
