import { createApp } from './app.js';
import { ERRORS, GatewayError, errorBody } from './errors.js';
import { configFromEnv, type WorkersConfigEnv } from './platform/workers/config.js';
import type { RateLimiterStub } from './ratelimit/stores/durable-object.workers.js';
import type { RecordsStub } from './records/stores/durable-object.workers.js';
import { isDurableObjectNamespace } from './platform/workers/durable-objects/namespace.js';
import { consoleLogger, createWorkersDeps } from './platform/workers/deps.js';
import { describeClientAddress } from './lib/client-address.js';
import { describeCredentials } from './config/credentials.js';

export { FlowgateRateLimiter } from './platform/workers/durable-objects/flowgate-rate-limiter.js';
export { FlowgateRecords } from './platform/workers/durable-objects/flowgate-records.js';

type Handler = (request: Request, env: WorkersConfigEnv, ctx: unknown) => Response | Promise<Response>;

/**
 * One gateway per isolate: the config is parsed, keys are hashed and the app is built on the first
 * request and reused after. Bindings cannot change without a new deployment, which starts new
 * isolates, so a bad config is also decided once (and logged once) rather than on every request.
 */
const gateways = new WeakMap<object, Handler>();

function gatewayFor(env: WorkersConfigEnv): Handler {
  let handler = gateways.get(env);
  if (!handler) {
    handler = buildGateway(env);
    gateways.set(env, handler);
  }
  return handler;
}

function buildGateway(env: WorkersConfigEnv): Handler {
  const outcome = configFromEnv(env);
  if (!outcome.ok) {
    consoleLogger({ level: 'error', msg: 'invalid configuration', issues: outcome.issues });
    return () => invalidConfigResponse(outcome.message);
  }
  const rateLimiter = isDurableObjectNamespace<RateLimiterStub>(env.RATE_LIMITER) ? env.RATE_LIMITER : undefined;
  const records = isDurableObjectNamespace<RecordsStub>(env.RECORDS) ? env.RECORDS : undefined;
  const deps = createWorkersDeps(outcome.config, { rateLimiter, records });
  const app = createApp(deps);
  // Once per isolate; a missing binding is a warning because limits and de-duplication then hold per isolate only.
  consoleLogger({
    level: rateLimiter && records ? 'info' : 'warn',
    msg: 'gateway ready',
    flows: Object.keys(outcome.config.flows).length,
    upstream: outcome.config.upstream.endpoint,
    // On Workers the rest of the default chain is the credentials URI binding (platform/workers/credentials.ts).
    credentials:
      outcome.config.upstream.credentials.type === 'default'
        ? 'credentials_uri (from ALIBABA_CLOUD_CREDENTIALS_URI)'
        : describeCredentials(outcome.config.upstream.credentials),
    rateLimits: rateLimiter ? 'durable-object' : 'per-isolate (no RATE_LIMITER binding)',
    records: records ? 'durable-object' : 'per-isolate (no RECORDS binding)',
    clientAddress: describeClientAddress({ trustProxy: outcome.config.server.trustProxy, ipv6Prefix: outcome.config.anonymous.ipv6Prefix, platform: true }),
    cache: deps.cache ? (records ? 'cache-api, purge worldwide' : 'cache-api, purge per data center (no RECORDS binding)') : 'off',
  });
  return (request, env, ctx) => app.fetch(request, env, ctx as never);
}

/** The CloudFlow envelope, like every other flowgate error; the message names key paths, never values. */
function invalidConfigResponse(message: string): Response {
  const requestId = crypto.randomUUID();
  const error = new GatewayError('InternalError', ERRORS.InternalError.status, message);
  return new Response(JSON.stringify(errorBody(requestId, error)), {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'cache-control': 'no-store' },
  });
}

export default {
  fetch(request: Request, env: WorkersConfigEnv, ctx: unknown): Response | Promise<Response> {
    return gatewayFor(env)(request, env, ctx);
  },
};
