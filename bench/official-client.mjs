// B5: what users write today instead of flowgate — a Hono handler that calls the official
// `@alicloud/openapi-client` `callApi` (StartSyncExecution, default V3 signature) once per request and
// returns the execution's Output. No size checks, no limits, no cache: the smallest honest handler.
// Usage: node bench/official-client.mjs --port N --upstream http://127.0.0.1:M
import { Hono } from 'hono';
import { serveForBench } from './serve-hono.mjs';
import { parseArgs } from 'node:util';
import * as OpenApiModule from '@alicloud/openapi-client';
import * as TeaUtilModule from '@alicloud/tea-util';

// Both packages are CommonJS with `exports.default`; interop differs between loaders.
const OpenApi = OpenApiModule.default?.Config ? OpenApiModule.default : OpenApiModule;
const OpenApiClient = OpenApi.default ?? OpenApiModule.default;
const Util = TeaUtilModule.default?.RuntimeOptions ? TeaUtilModule.default : TeaUtilModule;

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' } } });
if (!values.upstream) throw new Error('--upstream is required');
const upstream = new URL(values.upstream);

const client = new OpenApiClient(
  new OpenApi.Config({
    accessKeyId: 'bench-id',
    accessKeySecret: 'bench-secret',
    regionId: 'cn-hangzhou',
    endpoint: upstream.host,
    protocol: upstream.protocol.replace(':', ''),
  }),
);
const params = new OpenApi.Params({
  action: 'StartSyncExecution',
  version: '2019-03-15',
  protocol: upstream.protocol.replace(':', ''),
  pathname: '/',
  method: 'POST',
  authType: 'AK',
  style: 'RPC',
  reqBodyType: 'formData',
  bodyType: 'json',
});
const runtime = new Util.RuntimeOptions({ autoretry: false });

const app = new Hono();
app.post('/flows/:name/run', async (c) => {
  const input = await c.req.json();
  const result = await client.callApi(params, new OpenApi.OpenApiRequest({ body: { FlowName: c.req.param('name'), Input: JSON.stringify(input) } }), runtime);
  const execution = result.body;
  if (execution.Status !== 'Succeeded') return c.json({ Code: execution.ErrorCode, Message: execution.ErrorMessage }, 500);
  return c.body(execution.Output || '{}', 200, { 'content-type': 'application/json' });
});

serveForBench(app, Number(values.port));
