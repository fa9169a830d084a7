/**
 * `/openapi.json` is a valid OpenAPI 3.1 document:
 * - it passes the official OpenAPI 3.1 JSON Schema (spec.openapis.org), as checked by
 *   `@seriousme/openapi-schema-validator`, which also resolves every $ref;
 * - and what that schema cannot express: every path template parameter is declared (and nothing else
 *   is), operationIds are unique, no response describes Content-Type as a header. The local checker for
 *   those is itself shown to catch each defect, and so is the official validator.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { openApiDocument } from '../src/routes/openapi.js';
import { inProcessGateway, type InProcessGateway } from './helpers/in-process.js';

type Json = Record<string, unknown>;

const RAW = {
  upstream: { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'id', accessKeySecret: 'secret' } },
  callers: { app: { apiKeys: ['app-key-0123456789abcdef'] }, ops: { apiKeys: ['ops-key-0123456789abcdef'], admin: true } },
  flows: {
    hello: {
      flowName: 'hello_world',
      qualifiers: ['1', 'prod'],
      access: ['app'],
      rateLimit: { rate: '5/s' },
      cache: { ttl: '60s' },
      errors: { OrderNotFound: 404, InvalidOrder: 422, Busy: 429 },
      inputSchema: { type: 'object', properties: { name: { type: 'string' } } },
    },
    'github-push': { webhook: { provider: 'github', secrets: ['gh-secret'] }, mode: 'ack' },
    'create-order': { idempotency: { ttl: '24h', required: true }, access: 'authenticated' },
    'public-v2': { access: 'public' },
    // Spelled like create-order once punctuation is folded into an operationId: the ids must still differ.
    create_order: {},
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Resolves a local JSON pointer (`#/components/…`), or undefined. */
function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Json)[part];
  }
  return node;
}

const deref = (doc: Json, node: unknown): Json => {
  const value = node as Json;
  return typeof value?.$ref === 'string' ? (resolvePointer(doc, value.$ref) as Json) : value;
};

/** Every structural problem found, as readable strings; [] for a valid document. */
export function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.openapi !== '3.1.0') problems.push('openapi must be "3.1.0"');
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || typeof info?.version !== 'string') problems.push('info needs title and version');

  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${at}/${i}`));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') {
        if (typeof value !== 'string' || resolvePointer(doc, value) === undefined) problems.push(`${at}: $ref ${String(value)} does not resolve`);
      } else walk(value, `${at}/${key}`);
    }
  };
  walk(doc, '#');

  const schemes = Object.keys(((doc.components as Json | undefined)?.securitySchemes as Json | undefined) ?? {});
  const checkSecurity = (security: unknown, at: string) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return problems.push(`${at}: security must be an array`);
    for (const requirement of security as Json[])
      for (const name of Object.keys(requirement)) if (!schemes.includes(name)) problems.push(`${at}: unknown security scheme ${name}`);
  };
  checkSecurity(doc.security, '#/security');

  const operationIds = new Map<string, string>();
  for (const [path, item] of Object.entries((doc.paths as Json | undefined) ?? {})) {
    if (!path.startsWith('/')) problems.push(`${path}: paths start with "/"`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const pathItem = item as Json;
    const shared = ((pathItem.parameters as unknown[] | undefined) ?? []).map((p) => deref(doc, p));
    for (const method of Object.keys(pathItem).filter((k) => METHODS.includes(k))) {
      const op = pathItem[method] as Json;
      const at = `${method.toUpperCase()} ${path}`;
      if (typeof op.operationId === 'string') {
        const other = operationIds.get(op.operationId);
        if (other) problems.push(`${at}: operationId ${op.operationId} is also used by ${other}`);
        operationIds.set(op.operationId, at);
      }
      const own = ((op.parameters as unknown[] | undefined) ?? []).map((p) => deref(doc, p));
      const seen = new Set<string>();
      for (const p of own) {
        if (typeof p?.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in as string))
          problems.push(`${at}: a parameter needs name and in`);
        const id = `${String(p?.in)}:${String(p?.name).toLowerCase()}`;
        if (seen.has(id)) problems.push(`${at}: parameter ${id} is declared twice`);
        seen.add(id);
        if (p?.in === 'path' && p.required !== true) problems.push(`${at}: path parameter ${String(p.name)} must be required`);
        if (p?.schema === undefined && p?.content === undefined) problems.push(`${at}: parameter ${String(p?.name)} needs a schema`);
      }
      const declared = [...shared, ...own].filter((p) => p?.in === 'path').map((p) => p.name as string);
      for (const name of templated) if (!declared.includes(name)) problems.push(`${at}: path parameter {${name}} is not declared`);
      for (const name of declared) if (!templated.includes(name)) problems.push(`${at}: parameter ${name} is not in the path`);

      const responses = op.responses as Json | undefined;
      if (!responses || Object.keys(responses).length === 0) problems.push(`${at}: no responses`);
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (!/^(?:[1-5](?:\d\d|XX)|default)$/.test(status)) problems.push(`${at}: bad response key ${status}`);
        const resolved = deref(doc, response);
        if (typeof resolved?.description !== 'string') problems.push(`${at} ${status}: a response needs a description`);
        for (const header of Object.keys((resolved?.headers as Json | undefined) ?? {})) {
          if (header.toLowerCase() === 'content-type') problems.push(`${at} ${status}: Content-Type is not described as a header`);
        }
      }
      checkSecurity(op.security, at);
    }
  }
  return problems;
}

describe('GET /openapi.json', () => {
  let gw: InProcessGateway;
  let doc: Json;
  beforeAll(async () => {
    gw = inProcessGateway(RAW);
    const res = await gw.fetch(`${gw.url}/openapi.json`);
    expect(res.headers.get('content-type')).toBe('application/json');
    doc = (await res.json()) as Json;
  });
  afterAll(() => gw.close());

  it('passes the official OpenAPI 3.1 schema, every $ref resolving', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(doc)).toEqual([]);
  });

  it('describes every route: one run operation per flow, the cache purge and the execution status', () => {
    expect(Object.keys(doc.paths as Json)).toEqual([
      '/flows/hello/run',
      '/flows/github-push/run',
      '/flows/create-order/run',
      '/flows/public-v2/run',
      '/flows/create_order/run',
      '/flows/{name}/cache',
      '/executions/{name}',
    ]);
    const purge = (doc.paths as Json)['/flows/{name}/cache'] as { delete: Json };
    expect(Object.keys(purge.delete.responses as Json)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '429', '503']));
    const execution = (doc.paths as Json)['/executions/{name}'] as { get: Json };
    expect(Object.keys(execution.get.responses as Json)).toEqual(expect.arrayContaining(['200', '401', '404', '429', '503']));
  });

  it('lists the errors each run operation can answer with, and only those', () => {
    const op = (path: string) => (((doc.paths as Json)[path] as Json).post as Json).responses as Json;
    const statuses = (path: string) => Object.keys(op(path)).sort();
    expect(statuses('/flows/hello/run')).toEqual(['200', '400', '401', '403', '404', '413', '415', '422', '429', '500', '502', '503', '504', 'default']);
    expect(statuses('/flows/github-push/run')).toEqual(['200', '202', '400', '401', '409', '413', '415', '429', '500', '502', '503', '504', 'default']);
    expect(statuses('/flows/create-order/run')).toEqual(['200', '400', '401', '409', '413', '415', '422', '429', '500', '502', '503', '504', 'default']);
    expect(statuses('/flows/public-v2/run')).not.toContain('403');
    // A flow error mapped onto a status the gateway also uses is named in that status' description.
    expect(deref(doc, op('/flows/hello/run')['429']).description).toMatch(/ResourceThrottled.*Busy/);
  });

  it('documents the 202 body and the response headers', () => {
    const ack = deref(doc, ((((doc.paths as Json)['/flows/github-push/run'] as Json).post as Json).responses as Json)['202']);
    expect(deref(doc, (ack.content as { 'application/json': { schema: unknown } })['application/json'].schema).required).toEqual([
      'RequestId',
      'ExecutionName',
      'Status',
      'Location',
    ]);
    expect(Object.keys(ack.headers as Json)).toEqual(expect.arrayContaining(['Location', 'X-Execution-Name', 'X-Request-Id', 'RateLimit', 'RateLimit-Policy']));
    const hello = (((doc.paths as Json)['/flows/hello/run'] as Json).post as Json).responses as Json;
    expect(Object.keys(deref(doc, hello['200']).headers as Json)).toEqual(
      expect.arrayContaining(['X-Request-Id', 'X-Execution-Name', 'RateLimit', 'RateLimit-Policy', 'Cache-Status', 'Age']),
    );
    const throttled = deref(doc, ((((doc.paths as Json)['/flows/create-order/run'] as Json).post as Json).responses as Json)['429']);
    expect(Object.keys(throttled.headers as Json)).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id']));
  });

  it("gives each webhook flow's request body the media types its sender posts", () => {
    const config = parseConfig(
      {
        ...RAW,
        flows: {
          json: {},
          stripe: { webhook: { provider: 'stripe', secrets: ['whsec_x'] } },
          slack: { webhook: { provider: 'slack', secrets: ['s'] }, inputSchema: { type: 'object', required: ['command'] } },
          partner: { webhook: { provider: 'hmac', secrets: ['s'], header: 'X-Sig', body: 'text' } },
        },
      },
      {},
    );
    const paths = openApiDocument(config).paths as Record<string, { post: { requestBody: { content: Json } } }>;
    const content = (flow: string) => paths[`/flows/${flow}/run`]!.post.requestBody.content;
    expect(Object.keys(content('json'))).toEqual(['application/json']);
    expect(Object.keys(content('stripe'))).toEqual(['application/json']);
    expect(content('slack')).toEqual({
      'application/json': { schema: { type: 'object', required: ['command'] } },
      'application/x-www-form-urlencoded': { schema: {} },
    });
    expect(Object.keys(content('partner'))).toEqual(['*/*']);
  });

  it('the official validator refuses a document with a defect the schema covers', async () => {
    const config = parseConfig(RAW, {});
    const fresh = () => openApiDocument(config) as Json;
    const verdict = async (document: Json) => new Validator().validate(document);
    expect((await verdict(fresh())).valid).toBe(true);

    const noDescription = fresh();
    ((((noDescription.paths as Json)['/flows/{name}/cache'] as Json).delete as Json).responses as Json)['200'] = {};
    const missing = await verdict(noDescription);
    expect(missing.valid).toBe(false);
    expect(missing.errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: "must have required property 'description'" })]));

    const badParameter = fresh();
    (((badParameter.paths as Json)['/executions/{name}'] as Json).get as Json).parameters = [{ name: 'name', in: 'body' }];
    expect((await verdict(badParameter)).valid).toBe(false);

    const dangling = fresh();
    (((dangling.paths as Json)['/executions/{name}'] as Json).get as Json).responses = { '200': { $ref: '#/components/responses/Nope' } };
    expect(await verdict(dangling)).toEqual({ valid: false, errors: "Can't resolve #/components/responses/Nope" });
  });

  it('the checker catches each defect it looks for', () => {
    const config = parseConfig(RAW, {});
    const fresh = () => openApiDocument(config) as Json;
    expect(openApiProblems(fresh())).toEqual([]);

    const dangling = fresh();
    (((dangling.paths as Json)['/executions/{name}'] as Json).get as Json).responses = { '200': { $ref: '#/components/responses/Nope' } };
    expect(openApiProblems(dangling)).toEqual(expect.arrayContaining([expect.stringContaining('$ref #/components/responses/Nope does not resolve')]));

    const undeclared = fresh();
    (((undeclared.paths as Json)['/executions/{name}'] as Json).get as Json).parameters = [];
    expect(openApiProblems(undeclared)).toEqual(['GET /executions/{name}: path parameter {name} is not declared']);

    const duplicate = fresh();
    (((duplicate.paths as Json)['/flows/{name}/cache'] as Json).delete as Json).operationId = 'get_execution';
    expect(openApiProblems(duplicate)).toEqual([expect.stringContaining('operationId get_execution is also used by')]);

    const noDescription = fresh();
    ((((noDescription.paths as Json)['/flows/{name}/cache'] as Json).delete as Json).responses as Json)['200'] = {};
    expect(openApiProblems(noDescription)).toEqual(['DELETE /flows/{name}/cache 200: a response needs a description']);
  });
});

describe('/openapi.json with routes', () => {
  const WITH_ROUTES = {
    ...RAW,
    flows: {
      'get-order': {
        access: ['app'],
        cache: { ttl: '60s' },
        inputSchema: {
          type: 'object',
          required: ['orderId'],
          properties: { orderId: { type: 'integer', minimum: 1 }, expand: { type: 'boolean' }, note: { $ref: '#/$defs/note' } },
          $defs: { note: { type: 'string', maxLength: 200 } },
        },
        outputSchema: { type: 'object', properties: { id: { type: 'integer' } } },
      },
      page: { response: 'proxy', outputSchema: { type: 'object', properties: { body: { type: 'string' } } } },
      plain: {},
    },
    routes: [
      { method: 'GET', path: '/v1/orders/:id', flow: 'get-order', input: { orderId: '{path.id}', expand: '{query.expand}', channel: '{headers.x-channel}' } },
      { method: 'PUT', path: '/v1/orders/:id', flow: 'get-order', input: { orderId: '{path.id}', note: '{body}' } },
      { method: 'POST', path: '/v1/orders', flow: 'get-order', input: '{body}', description: 'Create an order' },
      { method: 'GET', path: '/v1/pages/:slug/:rev', flow: 'page', input: { slug: '{path.slug}' } },
    ],
  };
  const doc = () => openApiDocument(parseConfig(WITH_ROUTES, {})) as Json;
  const op = (d: Json, path: string, method: string) => ((d.paths as Json)[path] as Json)[method] as Json;

  it('passes the official OpenAPI 3.1 schema and the structural checks, $refs into flow schemas included', async () => {
    const d = doc();
    const result = await new Validator().validate(structuredClone(d));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(openApiProblems(d)).toEqual([]);
  });

  it('has one operation per route, with path, query and header parameters typed by the inputSchema', () => {
    const d = doc();
    expect(Object.keys((d.paths as Json)['/v1/orders/{id}'] as Json)).toEqual(['get', 'put']);
    const get = op(d, '/v1/orders/{id}', 'get');
    const params = (get.parameters as Json[]).filter((p) => !('$ref' in p));
    expect(params.map((p) => [p.name, p.in, p.required, p.schema])).toEqual([
      ['id', 'path', true, { type: 'integer', minimum: 1 }],
      ['expand', 'query', false, { type: 'boolean' }],
      ['x-channel', 'header', false, { type: 'string' }],
      // The flow's own run parameters follow: it has a cache.
      ['Cache-Control', 'header', false, { type: 'string' }],
    ]);
    expect(get.requestBody).toBeUndefined();
    expect(Object.keys(get.responses as Json)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '405', '429']));
    // The response schema is the flow's outputSchema.
    expect(((deref(d, (get.responses as Json)['200']).content as Json)['application/json'] as Json).schema).toEqual({
      type: 'object',
      properties: { id: { type: 'integer' } },
    });
  });

  it('the request schema is the inputSchema for {body}, or the part of it where {body} sits', () => {
    const d = doc();
    const post = op(d, '/v1/orders', 'post');
    expect(post.summary).toBe('Create an order');
    const whole = ((post.requestBody as Json).content as Json)['application/json'] as Json;
    expect(whole.schema).toEqual({ $ref: '#/components/schemas/get-order.Input' });
    expect(((d.components as Json).schemas as Json)['get-order.Input']).toMatchObject({
      properties: { note: { $ref: '#/components/schemas/get-order.Input/$defs/note' } },
    });
    const put = op(d, '/v1/orders/{id}', 'put');
    // The note's schema is a $ref within the flow's schema, followed to the schema it names.
    expect((((put.requestBody as Json).content as Json)['application/json'] as Json).schema).toEqual({ type: 'string', maxLength: 200 });
  });

  it('declares a path parameter the Input does not read; a proxy flow answers with its body schema under any type', () => {
    const d = doc();
    const page = op(d, '/v1/pages/{slug}/{rev}', 'get');
    expect((page.parameters as Json[]).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(['slug', 'rev']);
    expect(((deref(d, (page.responses as Json)['200']).content as Json)['*/*'] as Json).schema).toEqual({ type: 'string' });
    expect(op(d, '/flows/page/run', 'post')).toBeDefined();
  });
});
