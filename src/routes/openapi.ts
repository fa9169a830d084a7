import { Hono } from 'hono';
import type { Config, FlowConfig } from '../config/load.js';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { ERRORS } from '../errors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { acceptedMediaTypes } from '../webhooks/body.js';
import { flowWebhookVerifier } from '../webhooks/from-config.js';
import { openApiPath, type RouteConfig, type TemplateNode } from '../config/routes.js';
import { subschemaAt } from '../schema/json-schema.js';

const EXECUTION_NAME_PATTERN = CLOUDFLOW_NAME.source;
const ref = (kind: 'schemas' | 'responses' | 'headers' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });
const errorContent = { 'application/json': { schema: ref('schemas', 'Error') } };

const schemas = {
  Error: {
    type: 'object',
    required: ['RequestId', 'Code', 'Message'],
    properties: {
      RequestId: { type: 'string' },
      Code: { type: 'string', description: 'A code of `x-error-codes`, or a flow error code from `flows.<name>.errors`.' },
      Message: { type: 'string' },
      ExecutionName: { type: 'string', description: 'Present when an execution ran and failed, timed out or was stopped.' },
    },
  },
  Accepted: {
    type: 'object',
    required: ['RequestId', 'ExecutionName', 'Status', 'Location'],
    properties: {
      RequestId: { type: 'string' },
      ExecutionName: { type: 'string', pattern: EXECUTION_NAME_PATTERN },
      Status: { type: 'string', enum: ['Running', 'Succeeded', 'Failed'] },
      Location: { type: 'string', description: 'The status URL: /executions/{name}.' },
    },
  },
  Execution: {
    type: 'object',
    required: ['RequestId', 'ExecutionName', 'Flow', 'Status', 'StartedTime'],
    properties: {
      RequestId: { type: 'string' },
      ExecutionName: { type: 'string' },
      Flow: { type: 'string' },
      Status: { type: 'string', enum: ['Running', 'Succeeded', 'Failed', 'Unknown'] },
      StartedTime: { type: 'string', format: 'date-time' },
      StoppedTime: { type: 'string', format: 'date-time' },
      UpstreamExecutionName: { type: 'string' },
      Result: { type: 'object', required: ['StatusCode', 'Body'], properties: { StatusCode: { type: 'integer' }, Body: {} } },
    },
  },
  CachePurged: {
    type: 'object',
    required: ['RequestId', 'Flow', 'Purged'],
    properties: { RequestId: { type: 'string' }, Flow: { type: 'string' }, Purged: { type: 'boolean', description: 'false when the flow has no cache.' } },
  },
};

const headers = {
  'X-Request-Id': { description: "The request's id: the caller's own when it was short and plain, otherwise a new one.", schema: { type: 'string' } },
  'X-Execution-Name': { description: 'The execution name as CloudFlow returned it.', schema: { type: 'string' } },
  RateLimit: { description: 'What is left of each policy that applied (draft-ietf-httpapi-ratelimit-headers).', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The policies that applied: quota `q` and window `w` in seconds.', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
  'Cache-Status': { description: 'How the response cache handled the request (RFC 9211).', schema: { type: 'string' } },
  Age: { description: 'Seconds since a cached response was stored.', schema: { type: 'integer', minimum: 0 } },
  Location: { description: 'The status URL of the execution.', schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: '"true" when the answer is the stored answer of an earlier request with the same key.',
    schema: { type: 'string', enum: ['true'] },
  },
};

const withRequestId = { 'X-Request-Id': ref('headers', 'X-Request-Id') };
const withLimits = { ...withRequestId, RateLimit: ref('headers', 'RateLimit'), 'RateLimit-Policy': ref('headers', 'RateLimit-Policy') };

function errorResponse(description: string, extraHeaders: Record<string, unknown> = {}) {
  return { description, headers: { ...withRequestId, ...extraHeaders }, content: errorContent };
}

/** One reusable response per error status; each operation lists those that can happen to it. */
const responses = {
  BadRequest: errorResponse('InvalidArgument or MissingIdempotencyKey: the body, a header or the qualifier is not acceptable.'),
  Unauthorized: errorResponse('InvalidCredentials (no, unknown or bad credential) or InvalidSignature (webhook flows).', {
    'WWW-Authenticate': { description: 'Bearer error="invalid_token" for a bad token.', schema: { type: 'string' } },
  }),
  Forbidden: errorResponse('AccessDenied: the caller may not do this.'),
  NotFound: errorResponse("The resource does not exist, or is not the caller's to see."),
  Conflict: errorResponse('Conflict: a request with the same key or delivery id is in flight, or the execution name is taken.', {
    'Retry-After': ref('headers', 'Retry-After'),
  }),
  PayloadTooLarge: errorResponse('EntityTooLarge: the body is larger than the limit.'),
  UnsupportedMediaType: errorResponse('UnsupportedMediaType: a body must be application/json.'),
  UnprocessableEntity: errorResponse('IdempotencyKeyMismatch: the key was used with a different body.'),
  TooManyRequests: errorResponse("ResourceThrottled: a limit of this gateway (or CloudFlow's own) refused the request.", {
    'Retry-After': ref('headers', 'Retry-After'),
    RateLimit: ref('headers', 'RateLimit'),
    'RateLimit-Policy': ref('headers', 'RateLimit-Policy'),
  }),
  InternalError: errorResponse('InternalError, ExecutionFailed or ExecutionStopped, or a flow error code without a mapped status.'),
  BadGateway: errorResponse('UpstreamError: CloudFlow answered with an error.'),
  MethodNotAllowed: errorResponse('MethodNotAllowed: the path takes other methods, listed in Allow.', {
    Allow: { description: 'The methods this path takes.', schema: { type: 'string' } },
  }),
  ServiceUnavailable: errorResponse('ServiceUnavailable: a store or the JWKS is unavailable.', { 'Retry-After': ref('headers', 'Retry-After') }),
  GatewayTimeout: errorResponse('ExecutionTimedOut or GatewayTimeout.'),
};
type ResponseName = keyof typeof responses;

const pick = (entries: [string, ResponseName][]) => Object.fromEntries(entries.map(([status, name]) => [status, ref('responses', name)]));

/** The `Authorization` / `X-API-Key` security of an operation: none on public flows (anonymous calls allowed). */
const optionalSecurity = [{}, { apiKey: [] }, { bearer: [] }];

/** The responses an operation that runs `flow` can answer with, whichever way it came in. */
function runResponses(flow: FlowConfig, schemas: SchemaRegistry): Record<string, unknown> {
  const statuses: [string, ResponseName][] = [
    ['400', 'BadRequest'],
    ['401', 'Unauthorized'],
    ['413', 'PayloadTooLarge'],
    ['415', 'UnsupportedMediaType'],
    ['429', 'TooManyRequests'],
    ['500', 'InternalError'],
    ['502', 'BadGateway'],
    ['503', 'ServiceUnavailable'],
    ['504', 'GatewayTimeout'],
  ];
  if (Array.isArray(flow.access)) statuses.push(['403', 'Forbidden']);
  if (flow.idempotency || flow.webhook || flow.mode === 'ack') statuses.push(['409', 'Conflict']);
  if (flow.idempotency) statuses.push(['422', 'UnprocessableEntity']);

  const out: Record<string, unknown> = {
    '200': {
      description: flow.mode === 'ack' ? 'A redelivery or replay of an execution that already finished.' : 'The execution succeeded; the body is its Output.',
      headers: {
        ...withLimits,
        'X-Execution-Name': ref('headers', 'X-Execution-Name'),
        ...(flow.cache ? { 'Cache-Status': ref('headers', 'Cache-Status'), Age: ref('headers', 'Age') } : {}),
        ...(flow.idempotency ? { 'Idempotent-Replayed': ref('headers', 'Idempotent-Replayed') } : {}),
      },
      content: successContent(flow, schemas),
    },
    ...pick(statuses),
  };
  if (flow.response.mode === 'proxy') {
    // The flow chooses the status: any of them may be its own answer rather than the gateway's.
    (out['200'] as Record<string, unknown>).description =
      'The execution succeeded. With response: proxy, the status, headers and body are the ones its Output names ({statusCode, headers, body}); an Output without statusCode is the body.';
  }
  if (flow.mode === 'ack') {
    out['202'] = {
      description: 'Accepted: the execution runs in the background; poll Location.',
      headers: { ...withLimits, 'X-Execution-Name': ref('headers', 'X-Execution-Name'), Location: ref('headers', 'Location') },
      content: { 'application/json': { schema: ref('schemas', 'Accepted') } },
    };
  }
  const byStatus = new Map<string, { description: string; headers: Record<string, unknown> }>(statuses.map(([status, name]) => [status, responses[name]]));
  for (const [code, status] of Object.entries(flow.errors)) {
    const key = String(status);
    // A flow error on a status the gateway also answers with shares that response, named in its description.
    const existing = byStatus.get(key) ?? { description: '', headers: withRequestId };
    const described = {
      description: existing.description ? `${existing.description} Or the flow error ${code}.` : `The flow failed with ${code}.`,
      headers: existing.headers,
    };
    byStatus.set(key, described);
    out[key] = { ...described, content: errorContent };
  }
  out.default = { description: 'An error in the CloudFlow envelope.', content: errorContent };
  return out;
}

/** Headers and query parameters every run operation takes: execution name, request id, qualifier, Idempotency-Key, Cache-Control. */
function runParameters(flow: FlowConfig): unknown[] {
  const parameters: unknown[] = [ref('parameters', 'ExecutionName'), ref('parameters', 'RequestId')];
  if (flow.qualifiers.length) parameters.push({ name: 'qualifier', in: 'query', required: false, schema: { type: 'string', enum: flow.qualifiers } });
  if (flow.idempotency)
    parameters.push({ name: 'Idempotency-Key', in: 'header', required: flow.idempotency.required, schema: { type: 'string', minLength: 1, maxLength: 255 } });
  if (flow.cache)
    parameters.push({
      name: 'Cache-Control',
      in: 'header',
      required: false,
      description: 'no-cache: run anyway and store; no-store: bypass the cache.',
      schema: { type: 'string' },
    });
  return parameters;
}

function runOperation(flow: FlowConfig, operationId: string, schemas: SchemaRegistry): Record<string, unknown> {
  return {
    operationId,
    summary: flow.description ?? `Run the ${flow.name} flow`,
    tags: ['flows'],
    parameters: runParameters(flow),
    requestBody: { required: false, content: requestContent(flow, schemas) },
    responses: runResponses(flow, schemas),
    // Public flows take anonymous calls (a credential, if sent, is still checked); webhook flows are signed instead.
    ...(flow.access === 'public' ? { security: optionalSecurity } : {}),
  };
}

/** What a route's operation reads where: the path and query parameters and headers its Input template names. */
function routeOperation(route: RouteConfig, flow: FlowConfig, operationId: string, schemas: SchemaRegistry): Record<string, unknown> {
  const inputSchema = flow.inputSchema;
  const parameters: unknown[] = [];
  const seen = new Set<string>();
  const declare = (node: TemplateNode, place: (string | number)[]) => {
    if (node.kind === 'object') return node.entries.forEach(([key, child]) => declare(child, [...place, key]));
    if (node.kind === 'array') return node.items.forEach((child, i) => declare(child, [...place, i]));
    if (node.kind !== 'ref') return;
    const location = node.source === 'headers' ? 'header' : node.source;
    // OpenAPI ignores Accept, Content-Type and Authorization as header parameters (3.1.0 §4.8.12.1).
    if (location === 'header' && ['accept', 'content-type', 'authorization'].includes(node.name)) return;
    const id = `${location}:${node.name}`;
    if (seen.has(id)) return;
    seen.add(id);
    const parent = inputSchema === undefined ? undefined : subschemaAt(inputSchema, place.slice(0, -1));
    const required = location === 'path' || (Array.isArray(parent?.required) && parent.required.includes(place.at(-1)));
    parameters.push({
      name: node.name,
      in: location,
      required,
      description: `The Input's ${place.map(String).join('.')}.`,
      schema: standalone(inputSchema === undefined ? undefined : subschemaAt(inputSchema, place)) ?? { type: node.convert },
    });
  };
  declare(route.input, []);
  for (const segment of route.segments) {
    // A parameter the Input does not read is still part of the path.
    if ('param' in segment && !seen.has(`path:${segment.param}`))
      parameters.push({ name: segment.param, in: 'path', required: true, schema: { type: 'string' } });
  }
  const body = bodyPlace(route.input, []);
  let requestBody: Record<string, unknown> | undefined;
  if (body) {
    const schema =
      body.length === 0
        ? (schemas.input(flow) ?? { type: 'object' })
        : (standalone(inputSchema === undefined ? undefined : subschemaAt(inputSchema, body)) ?? {});
    requestBody = { required: false, content: { 'application/json': { schema } } };
  }
  return {
    operationId,
    summary: route.description ?? flow.description ?? `Run the ${flow.name} flow`,
    description: `Runs the flow ${flow.name} (as POST /flows/${flow.name}/run does) with an Input built from the request.`,
    tags: ['routes'],
    parameters: [...parameters, ...runParameters(flow)],
    ...(requestBody ? { requestBody } : {}),
    responses: { ...runResponses(flow, schemas), '404': ref('responses', 'NotFound'), '405': ref('responses', 'MethodNotAllowed') },
    ...(flow.access === 'public' ? { security: optionalSecurity } : {}),
  };
}

/** Where `{body}` sits in a template: [] for the whole Input, undefined when the body is not read. */
function bodyPlace(node: TemplateNode, place: (string | number)[]): (string | number)[] | undefined {
  if (node.kind === 'body') return place;
  const children: [string | number, TemplateNode][] = node.kind === 'object' ? node.entries : node.kind === 'array' ? [...node.items.entries()] : [];
  for (const [step, child] of children) {
    const found = bodyPlace(child, [...place, step]);
    if (found) return found;
  }
  return undefined;
}

/** A part of a flow's schema that can stand alone in the document: one without `$ref`s into the rest of it. */
function standalone(schema: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return schema && !JSON.stringify(schema).includes('"$ref"') ? schema : undefined;
}

/**
 * The flows' schemas as the document holds them. A schema with local `$ref`s (`#/$defs/id`) lives under
 * `components/schemas`, its references rewritten to point there, since in the document `#` is the document's root.
 */
interface SchemaRegistry {
  input(flow: FlowConfig): Record<string, unknown> | undefined;
  output(flow: FlowConfig): Record<string, unknown> | undefined;
  components: Record<string, unknown>;
}

function schemaRegistry(): SchemaRegistry {
  const components: Record<string, unknown> = {};
  const place = (schema: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined => {
    if (schema === undefined || !JSON.stringify(schema).includes('"$ref"')) return schema;
    const base = `#/components/schemas/${name}`;
    components[name] = rewriteRefs(schema, base);
    return { $ref: base };
  };
  const key = (flow: FlowConfig) => flow.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return {
    input: (flow) => place(flow.inputSchema, `${key(flow)}.Input`),
    output: (flow) => place(flow.outputSchema, `${key(flow)}.Output`),
    components,
  };
}

function rewriteRefs(node: unknown, base: string): unknown {
  if (Array.isArray(node)) return node.map((v) => rewriteRefs(v, base));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#') ? base + v.slice(1) : rewriteRefs(v, base)]),
  );
}

/** The 200 body: the flow's `outputSchema` when it sets one (for a proxy flow, its `body` property's). */
function successContent(flow: FlowConfig, schemas: SchemaRegistry): Record<string, unknown> {
  const output = schemas.output(flow);
  if (flow.response.mode === 'proxy') {
    const body = flow.outputSchema === undefined ? undefined : subschemaAt(flow.outputSchema, ['body']);
    return { '*/*': { schema: standalone(body) ?? {} } };
  }
  return { 'application/json': { schema: output ?? { type: 'object' } } };
}

/** The body a flow takes: JSON, or what its webhook sender posts (the schema describes the decoded Input). */
function requestContent(flow: FlowConfig, schemas: SchemaRegistry): Record<string, unknown> {
  const schema = schemas.input(flow) ?? { type: 'object' };
  const types = flow.webhook ? acceptedMediaTypes(flowWebhookVerifier(flow.name, flow.webhook).body) : ['application/json'];
  return Object.fromEntries(types.map((type) => [type, { schema: type === 'application/json' ? schema : {} }]));
}

/** `GET /openapi.json`: an OpenAPI 3.1 document generated from the config, one operation per exposed flow and per route. */
export function openApiDocument(config: Config): Record<string, unknown> {
  const flows = Object.values(config.flows);
  const paths: Record<string, unknown> = {};
  const operationIds = new Set(['purge_flow_cache', 'get_execution']);
  // Names may differ only in punctuation (`a-b`, `a_b`); operationIds must not collide.
  const uniqueId = (wanted: string) => {
    const base = wanted.replace(/[^A-Za-z0-9_]/g, '_');
    let operationId = base;
    for (let n = 2; operationIds.has(operationId); n++) operationId = `${base}_${n}`;
    operationIds.add(operationId);
    return operationId;
  };
  const schemaSet = schemaRegistry();
  for (const flow of flows) paths[`/flows/${flow.name}/run`] = { post: runOperation(flow, uniqueId(`run_${flow.name}`), schemaSet) };
  for (const route of config.routes) {
    const flow = config.flows[route.flow]!;
    const path = openApiPath(route);
    const item = (paths[path] ??= {}) as Record<string, unknown>;
    item[route.method.toLowerCase()] = routeOperation(route, flow, uniqueId(`${route.method.toLowerCase()}${path.replace(/[{}]/g, '')}`), schemaSet);
  }

  paths['/flows/{name}/cache'] = {
    delete: {
      operationId: 'purge_flow_cache',
      summary: 'Drop every cached response of one flow (admin callers only)',
      tags: ['cache'],
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', enum: flows.map((f) => f.name) } }, ref('parameters', 'RequestId')],
      responses: {
        '200': {
          description: 'Purged, or nothing to purge (`Purged: false`).',
          headers: withRequestId,
          content: { 'application/json': { schema: ref('schemas', 'CachePurged') } },
        },
        ...pick([
          ['401', 'Unauthorized'],
          ['403', 'Forbidden'],
          ['404', 'NotFound'],
          ['429', 'TooManyRequests'],
          ['503', 'ServiceUnavailable'],
        ]),
        default: { description: 'An error in the CloudFlow envelope.', content: errorContent },
      },
    },
  };
  paths['/executions/{name}'] = {
    get: {
      operationId: 'get_execution',
      summary: 'Where an execution of an `ack` flow stands (its starting caller or an admin)',
      description: "Execution names are per caller: a caller reads its own executions. An admin caller reads another caller's with `?caller=<caller id>`.",
      tags: ['executions'],
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: EXECUTION_NAME_PATTERN } },
        {
          name: 'caller',
          in: 'query',
          required: false,
          description:
            'Admin callers: whose execution to read (a caller id as in the access log: `mobile-app`, `jwt:<sub>`, `ip:<address>`, `webhook:<provider>`).',
          schema: { type: 'string', minLength: 1, maxLength: 512 },
        },
        ref('parameters', 'RequestId'),
      ],
      responses: {
        '200': {
          description: 'The execution record.',
          headers: { ...withRequestId, 'Retry-After': { ...headers['Retry-After'], description: 'While Running: when to ask again.' } },
          content: { 'application/json': { schema: ref('schemas', 'Execution') } },
        },
        ...pick([
          ['401', 'Unauthorized'],
          ['404', 'NotFound'],
          ['429', 'TooManyRequests'],
          ['503', 'ServiceUnavailable'],
        ]),
        default: { description: 'An error in the CloudFlow envelope.', content: errorContent },
      },
      security: optionalSecurity,
    },
  };

  return {
    openapi: '3.1.0',
    info: { title: 'flowgate', version: '1' },
    paths,
    components: {
      schemas: { ...schemas, ...schemaSet.components },
      responses,
      headers,
      parameters: {
        ExecutionName: {
          name: 'X-Execution-Name',
          in: 'header',
          required: false,
          description: 'Names the execution (unique per caller on `ack` flows; a name in use is 409).',
          schema: { type: 'string', pattern: EXECUTION_NAME_PATTERN },
        },
        RequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'Kept as the request id when short and plain.',
          schema: { type: 'string' },
        },
      },
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' }, bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    'x-error-codes': Object.fromEntries(Object.entries(ERRORS).map(([code, entry]) => [code, entry.status])),
  };
}

export function openApiRoute(deps: Deps) {
  const body = JSON.stringify(openApiDocument(deps.config));
  return new Hono<AppEnv>().get('/openapi.json', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
}
