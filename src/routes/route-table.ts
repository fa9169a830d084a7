import type { RouteConfig } from '../config/routes.js';

/** What a request path found: the route for its method, or the methods the path has (405), or nothing (404). */
export type RouteMatch =
  { kind: 'route'; route: RouteConfig; params: Record<string, string> } | { kind: 'method'; allow: string } | { kind: 'none' } | { kind: 'bad-escape' };

interface Node {
  literals: Map<string, Node>;
  param: Node | undefined;
  /** Routes ending here, by method (HEAD answers from GET). */
  methods: Map<string, RouteConfig> | undefined;
  allow: string;
}

const node = (): Node => ({ literals: new Map(), param: undefined, methods: undefined, allow: '' });

/**
 * The routes as a segment trie, built once at start: a lookup costs one map probe per path segment, whatever the
 * number of routes. A literal segment wins over a parameter (`/v1/orders/new` before `/v1/orders/:id`), the
 * OpenAPI rule for concrete and templated paths; the method is judged once the path is found, so a known path with
 * another method is 405, not a lower-priority route. The routes must have passed the config loader (no two share a
 * method and shape).
 */
export function routeTable(routes: readonly RouteConfig[]): (method: string, path: string) => RouteMatch {
  const root = node();
  for (const route of routes) {
    let at = root;
    for (const segment of route.segments) {
      if ('param' in segment) at = at.param ??= node();
      else {
        let next = at.literals.get(segment.literal);
        if (!next) at.literals.set(segment.literal, (next = node()));
        at = next;
      }
    }
    const methods = (at.methods ??= new Map());
    methods.set(route.method, route);
    if (route.method === 'GET') methods.set('HEAD', route);
    at.allow = [...methods.keys()].join(', ');
  }

  return function match(method, path) {
    // `path` is the raw path, without the query; segments are compared decoded, so `%7E` finds `~`.
    const raw = path.length > 1 ? path.slice(1).split('/') : [];
    const segments: string[] = [];
    for (const part of raw) {
      if (!part.includes('%')) segments.push(part);
      else {
        try {
          segments.push(decodeURIComponent(part));
        } catch {
          return { kind: 'bad-escape' };
        }
      }
    }
    const values: string[] = [];
    const found = walk(root, segments, 0, values);
    if (!found) return { kind: 'none' };
    const route = found.methods!.get(method);
    if (!route) return { kind: 'method', allow: found.allow };
    const params: Record<string, string> = {};
    let i = 0;
    for (const segment of route.segments) if ('param' in segment) params[segment.param] = values[i++]!;
    return { kind: 'route', route, params };
  };
}

function walk(at: Node, segments: readonly string[], i: number, values: string[]): Node | undefined {
  if (i === segments.length) return at.methods ? at : undefined;
  const segment = segments[i]!;
  const literal = at.literals.get(segment);
  if (literal) {
    const found = walk(literal, segments, i + 1, values);
    if (found) return found;
  }
  // A parameter is never empty: `/v1/orders//notes` matches nothing.
  if (at.param && segment !== '') {
    values.push(segment);
    const found = walk(at.param, segments, i + 1, values);
    if (found) return found;
    values.pop();
  }
  return undefined;
}
