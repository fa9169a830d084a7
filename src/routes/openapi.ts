import { Hono } from 'hono';
import type { Config, FlowConfig } from '../config/load.js';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { ERRORS } from '../errors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { acceptedMediaTypes } from '../webhooks/body.js';
import { flowWebhookVerifier } from '../webhooks/from-config.js';

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
  ServiceUnavailable: errorResponse('ServiceUnavailable: a store or the JWKS is unavailable.', { 'Retry-After': ref('headers', 'Retry-After') }),
  GatewayTimeout: errorResponse('ExecutionTimedOut or GatewayTimeout.'),
};
type ResponseName = keyof typeof responses;

const pick = (entries: [string, ResponseName][]) => Object.fromEntries(entries.map(([status, name]) => [status, ref('responses', name)]));

/** The `Authorization` / `X-API-Key` security of an operation: none on public flows (anonymous calls allowed). */
const optionalSecurity = [{}, { apiKey: [] }, { bearer: [] }];

function runOperation(flow: FlowConfig, operationId: string): Record<string, unknown> {
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
      content: { 'application/json': { schema: { type: 'object' } } },
    },
    ...pick(statuses),
  };
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

  return {
    operationId,
    summary: flow.description ?? `Run the ${flow.name} flow`,
    tags: ['flows'],
    parameters,
    requestBody: { required: false, content: requestContent(flow) },
    responses: out,
    // Public flows take anonymous calls (a credential, if sent, is still checked); webhook flows are signed instead.
    ...(flow.access === 'public' ? { security: optionalSecurity } : {}),
  };
}

/** The body a flow takes: JSON, or what its webhook sender posts (the schema describes the decoded Input). */
function requestContent(flow: FlowConfig): Record<string, unknown> {
  const schema = flow.inputSchema ?? { type: 'object' };
  const types = flow.webhook ? acceptedMediaTypes(flowWebhookVerifier(flow.name, flow.webhook).body) : ['application/json'];
  return Object.fromEntries(types.map((type) => [type, { schema: type === 'application/json' ? schema : {} }]));
}

/** `GET /openapi.json`: an OpenAPI 3.1 document generated from the config, one run operation per exposed flow. */
export function openApiDocument(config: Config): Record<string, unknown> {
  const flows = Object.values(config.flows);
  const paths: Record<string, unknown> = {};
  const operationIds = new Set(['purge_flow_cache', 'get_execution']);
  for (const flow of flows) {
    // Flow names may differ only in punctuation (`a-b`, `a_b`); operationIds must not collide.
    const base = `run_${flow.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let operationId = base;
    for (let n = 2; operationIds.has(operationId); n++) operationId = `${base}_${n}`;
    operationIds.add(operationId);
    paths[`/flows/${flow.name}/run`] = { post: runOperation(flow, operationId) };
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
      schemas,
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
