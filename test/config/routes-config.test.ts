/** `routes:`, `inputSchema`/`outputSchema` and `response` at load: every refusal names its key path and no value. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { describeRoute } from '../../src/config/routes.js';
import { routeTable } from '../../src/routes/route-table.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const base = (extra: Record<string, unknown>, flows: Record<string, unknown> = {}) => ({
  upstream: { endpoint: 'http://127.0.0.1:1' },
  flows: {
    orders: { inputSchema: { type: 'object', properties: { id: { type: 'integer' } } } },
    hook: { webhook: { provider: 'github', secrets: ['s'] } },
    ...flows,
  },
  ...extra,
});

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const route = (r: Record<string, unknown>) => base({ routes: [{ method: 'GET', path: '/v1/orders/:id', flow: 'orders', input: { id: '{path.id}' }, ...r }] });

describe('routes at load', () => {
  it('a valid route compiles: conversions from the inputSchema, the body read only when referenced', () => {
    const config = parseConfig(route({}), env);
    expect(config.routes).toHaveLength(1);
    expect(config.routes[0]!.input).toEqual({ kind: 'object', entries: [['id', { kind: 'ref', source: 'path', name: 'id', convert: 'integer' }]] });
    expect(config.routes[0]!.readsBody).toBe(false);
    expect(describeRoute(config.routes[0]!)).toBe('GET    /v1/orders/:id -> flow orders');
    expect(config.warnings).toEqual([]);
  });

  it.each([
    [{ flow: 'nope' }, 'routes.0.flow: not an exposed flow (a key under "flows")'],
    [{ flow: 'hook' }, 'routes.0.flow: a webhook flow is run by its sender at /flows/{name}/run, not through a route'],
    [{ input: { id: '{path.orderId}' } }, 'routes.0.input.id: the path declares no parameter "orderId"'],
    [{ input: { a: { b: ['{path.x}'] } } }, 'routes.0.input.a.b.0: the path declares no parameter "x"'],
    [{ input: { id: 'order-{path.id}' } }, 'routes.0.input.id: a reference is a whole value ("{path.id}"); there is no string interpolation'],
    [
      { input: { id: '{cookie.id}' } },
      'routes.0.input.id: unknown source; a reference reads "{path.<name>}", "{query.<name>}", "{headers.<name>}" or "{body}"',
    ],
    [{ input: { id: '{body.id}' } }, 'routes.0.input.id: the body is referenced whole, as "{body}"'],
    [{ input: { id: '{headers.bad header}' } }, 'routes.0.input.id: not a header name (an RFC 9110 token)'],
    [{ input: '{query.x}' }, 'routes.0.input: the Input is a JSON object: a mapping of keys to values, or "{body}"'],
    [{ input: ['{body}'] }, 'routes.0.input: the Input is a JSON object: a mapping of keys to values, or "{body}"'],
    [{ path: 'v1/orders' }, 'routes.0.path: must start with "/"'],
    [{ path: '/v1/orders/' }, 'routes.0.path: must not end with "/"'],
    [{ path: '/v1//orders' }, 'routes.0.path: has an empty segment'],
    [{ path: '/v1/orders/*' }, 'routes.0.path: a segment holds characters that need escaping, or a pattern (no wildcards or regular expressions)'],
    [{ path: '/v1/:id/:id' }, 'routes.0.path: the path parameter "id" is declared twice'],
    [{ path: '/v1/:1d' }, 'routes.0.path: a path parameter is ":" and a name of letters, digits and _'],
    [{ path: '/flows/:id' }, "routes.0.path: /flows/ belongs to flowgate's own routes"],
    [{ path: '/executions' }, "routes.0.path: /executions/ belongs to flowgate's own routes"],
    [{ path: '/healthz' }, "routes.0.path: could match flowgate's own /healthz"],
    [{ path: '/:id' }, "routes.0.path: could match flowgate's own /flows"],
    [{ path: '/:a/:id/run' }, "routes.0.path: could match flowgate's own /flows/:name/run"],
    [{ method: 'TRACE' }, 'routes.0.method: Invalid option: expected one of "GET"|"POST"|"PUT"|"PATCH"|"DELETE"'],
  ])('%j is refused: %s', (override, issue) => {
    expect(issuesOf(route(override))).toContain(issue);
  });

  it('two routes with the same method and path shape are refused, whatever their parameter names', () => {
    const issues = issuesOf(
      base({
        routes: [
          { method: 'GET', path: '/v1/orders/:id', flow: 'orders', input: { id: '{path.id}' } },
          { method: 'get', path: '/v1/orders/:orderId', flow: 'orders', input: { id: '{path.orderId}' } },
          { method: 'DELETE', path: '/v1/orders/:orderId', flow: 'orders', input: { id: '{path.orderId}' } },
        ],
      }),
    );
    expect(issues).toEqual([
      'routes.1.path: GET /v1/orders/:orderId is the same route as routes.0 (GET /v1/orders/:id)',
      'routes.1.path: names its parameters unlike routes.0, which has the same path',
      'routes.2.path: names its parameters unlike routes.0, which has the same path',
    ]);
  });

  it('?qualifier= cannot be Input on a flow that lists qualifiers', () => {
    const raw = base({ routes: [{ method: 'GET', path: '/v1/q', flow: 'q', input: { q: '{query.qualifier}' } }] }, { q: { qualifiers: ['1'] } });
    expect(issuesOf(raw)).toEqual(['routes.0.input.q: the flow lists qualifiers, so ?qualifier= chooses its version and cannot also be Input']);
  });

  it('a declared path parameter the Input never reads is a warning', () => {
    const config = parseConfig(route({ path: '/v1/orders/:id/:rev' }), env);
    expect(config.warnings).toEqual(['routes.0.path: the path parameter "rev" is not used by the input']);
  });

  it('a route header needs CORS to allow it; a safelisted one does not', () => {
    const raw = (header: string) => ({ ...route({ input: { id: '{path.id}', h: `{headers.${header}}` } }), server: { cors: true } });
    expect(issuesOf(raw('x-channel'))).toEqual(['server.cors.allowHeaders: missing x-channel: routes.0 reads it into the Input']);
    expect(issuesOf(raw('accept-language'))).toEqual([]);
  });
});

describe('schemas at load', () => {
  const flows = (schema: unknown, key = 'inputSchema') => base({}, { s: { [key]: schema } });
  it.each([
    [{ type: 'integr' }, 'flows.s.inputSchema.type: not valid by the JSON Schema 2020-12 meta-schema (anyOf)'],
    [{ properties: { a: { minimum: 'x' } } }, 'flows.s.inputSchema.properties.a.minimum: not valid by the JSON Schema 2020-12 meta-schema (type)'],
    [{ items: { pattern: '(' } }, 'flows.s.inputSchema.items.pattern: not valid by the JSON Schema 2020-12 meta-schema (format)'],
    [{ $ref: '#/$defs/missing' }, 'flows.s.inputSchema.$ref: must point inside this schema ("#" or "#/$defs/...")'],
    [{ $ref: 'https://example.com/schema' }, 'flows.s.inputSchema.$ref: must point inside this schema ("#" or "#/$defs/...")'],
    [
      { $schema: 'http://json-schema.org/draft-07/schema#' },
      'flows.s.inputSchema.$schema: only JSON Schema 2020-12 ("https://json-schema.org/draft/2020-12/schema") is supported',
    ],
  ])('inputSchema %j is refused with its key path', (schema, issue) => {
    expect(issuesOf(flows(schema))).toContain(issue);
  });

  it('outputSchema is checked the same way', () => {
    expect(issuesOf(flows({ required: 'a' }, 'outputSchema'))).toEqual([
      'flows.s.outputSchema.required: not valid by the JSON Schema 2020-12 meta-schema (type)',
    ]);
  });

  it('valid schemas with local $refs load', () => {
    expect(issuesOf(flows({ $defs: { id: { type: 'integer' } }, type: 'object', properties: { id: { $ref: '#/$defs/id' } } }))).toEqual([]);
  });
});

describe('response at load', () => {
  it('proxy on an ack flow and allowSetCookie without proxy are refused', () => {
    expect(issuesOf(base({}, { a: { mode: 'ack', response: 'proxy' } }))).toEqual([
      'flows.a.response: "proxy" shapes a synchronous answer; an ack flow answers 202 at once',
    ]);
    expect(issuesOf(base({}, { a: { response: { mode: 'body', allowSetCookie: true } } }))).toEqual([
      'flows.a.response.allowSetCookie: applies to mode "proxy" only',
    ]);
    expect(parseConfig(base({}, { a: { response: 'proxy' } }), env).flows.a!.response).toEqual({ mode: 'proxy', allowSetCookie: false });
  });
});

describe('route table', () => {
  const config = parseConfig(
    base({
      routes: [
        { method: 'GET', path: '/v1/orders/:id', flow: 'orders', input: { id: '{path.id}' } },
        { method: 'POST', path: '/v1/orders/new', flow: 'orders', input: {} },
        { method: 'GET', path: '/v1/orders/:id/items', flow: 'orders', input: { id: '{path.id}' } },
        { method: 'GET', path: '/v1/:kind/latest', flow: 'orders', input: {} },
        { method: 'GET', path: '/', flow: 'orders', input: {} },
      ],
    }),
    env,
  );
  const match = routeTable(config.routes);

  it('literal segments win, and the router backtracks to a parameter when the literal branch has no route', () => {
    expect(match('GET', '/v1/orders/7')).toMatchObject({ kind: 'route', params: { id: '7' } });
    expect(match('GET', '/v1/orders/new')).toEqual({ kind: 'method', allow: 'POST' });
    expect(match('GET', '/v1/items/latest')).toMatchObject({ kind: 'route', route: { path: '/v1/:kind/latest' }, params: { kind: 'items' } });
    // The literal "orders" is tried first, and /v1/orders/:id takes "latest".
    expect(match('GET', '/v1/orders/latest')).toMatchObject({ kind: 'route', route: { path: '/v1/orders/:id' }, params: { id: 'latest' } });
    // Backtracking: the literal branch has no route of this length, the parameter branch does.
    expect(match('GET', '/v1/orders/new/latest')).toEqual({ kind: 'none' });
    expect(match('GET', '/v1/x/latest')).toMatchObject({ kind: 'route', params: { kind: 'x' } });
    expect(match('HEAD', '/v1/orders/7/items')).toMatchObject({ kind: 'route', params: { id: '7' } });
    expect(match('GET', '/')).toMatchObject({ kind: 'route', route: { path: '/' } });
    expect(match('GET', '/v1')).toEqual({ kind: 'none' });
    expect(match('GET', '/v1/orders/a%2Fb')).toMatchObject({ kind: 'route', params: { id: 'a/b' } });
  });
});
