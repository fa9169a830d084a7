import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { ERRORS } from '../errors.js';

const errorSchema = {
  type: 'object',
  required: ['RequestId', 'Code', 'Message'],
  properties: { RequestId: { type: 'string' }, Code: { type: 'string' }, Message: { type: 'string' } },
};

/** `GET /openapi.json`: an OpenAPI 3.1 document generated from the config, one operation per exposed flow. */
export function openApiDocument(deps: Deps): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const flow of Object.values(deps.config.flows)) {
    const responses: Record<string, unknown> = {
      '200': { description: 'The execution succeeded; the body is its Output.', content: { 'application/json': { schema: { type: 'object' } } } },
      default: { description: 'An error in the CloudFlow envelope.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    };
    if (flow.mode === 'ack') responses['202'] = { description: 'Accepted; the execution runs in the background.' };
    for (const [code, status] of Object.entries(flow.errors)) {
      responses[String(status)] = { description: `The flow failed with ${code}.`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const parameters: unknown[] = [
      { name: 'X-Execution-Name', in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,127}$' } },
      { name: 'X-Request-Id', in: 'header', required: false, schema: { type: 'string' } },
    ];
    if (flow.qualifiers.length) parameters.push({ name: 'qualifier', in: 'query', required: false, schema: { type: 'string', enum: flow.qualifiers } });
    if (flow.idempotency) parameters.push({ name: 'Idempotency-Key', in: 'header', required: flow.idempotency.required, schema: { type: 'string' } });
    paths[`/flows/${flow.name}/run`] = {
      post: {
        operationId: `run_${flow.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
        summary: flow.description ?? `Run the ${flow.name} flow`,
        parameters,
        requestBody: { required: false, content: { 'application/json': { schema: flow.inputSchema ?? { type: 'object' } } } },
        responses,
        ...(flow.access === 'public' ? { security: [] } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'flowgate', version: '1' },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' }, bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    'x-error-codes': Object.fromEntries(Object.entries(ERRORS).map(([code, entry]) => [code, entry.status])),
  };
}

export function openApiRoute(deps: Deps) {
  const body = JSON.stringify(openApiDocument(deps));
  return new Hono<AppEnv>().get('/openapi.json', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
}
