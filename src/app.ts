import { Hono, type Context, type Handler } from 'hono';
import type { Deps } from './deps.js';
import type { AppEnv } from './env.js';
import { asGatewayError, errorBody, gatewayError } from './errors.js';
import { corsNeeds } from './config/cors.js';
import { authorize } from './middleware/authorize.js';
import { corsPolicy } from './middleware/cors.js';
import { identify } from './middleware/identify.js';
import { parseInput } from './middleware/parse-input.js';
import { matchRoute } from './middleware/match-route.js';
import { validateInput } from './middleware/validate-input.js';
import { rateLimit } from './middleware/rate-limit.js';
import { readBody } from './middleware/read-body.js';
import { requestContext } from './middleware/request-context.js';
import { resolveFlow } from './middleware/resolve-flow.js';
import { transferCoding } from './middleware/transfer-coding.js';
import { purgeCacheHandler } from './routes/cache-purge.js';
import { flowsRoute } from './routes/flows.js';
import { healthRoutes } from './routes/health.js';
import { openApiRoute } from './routes/openapi.js';
import { runHandler } from './routes/run.js';
import { jwtVerifier } from './auth/jwt.js';
import { policyResolver, senderPolicyResolver } from './ratelimit/policies.js';
import { authFailureLimiter } from './auth/failure-limit.js';
import { ackHandler } from './routes/ack.js';
import { executionsRoute } from './routes/executions.js';
import { metricsRoute } from './routes/metrics.js';
import { idempotency } from './idempotency/middleware.js';
import { verifyWebhook } from './webhooks/middleware.js';
import { clientAddressResolver } from './lib/client-address.js';

/**
 * The whole gateway as a Web-standard Hono app; the Node and Workers entries differ only in `deps`.
 * Order on the run route is deliberate: identity and limits come before the body is read, so a
 * refused caller costs no body read and no upstream call.
 */
export function createApp(deps: Deps): Hono<AppEnv> {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  app.use('*', requestContext({ clock: deps.clock, random: deps.random, log: deps.log, accessLog: config.server.accessLog, metrics: deps.metrics }));
  if (config.server.cors)
    app.use(
      '*',
      corsPolicy(
        config.server.cors,
        corsNeeds(config),
        config.routes.map((route) => route.method),
      ),
    );

  app.use('*', transferCoding());

  app.route('/', healthRoutes(deps));
  app.route('/', flowsRoute(deps));
  app.route('/', openApiRoute(deps));

  const jwt = config.auth.jwt;
  const verifyJwt = jwt
    ? jwtVerifier({
        secret: jwt.secret,
        jwksUrl: jwt.jwksUrl,
        algorithms: jwt.algorithms,
        callerClaim: jwt.callerClaim,
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockSkewMs: jwt.clockSkew,
        jwksCacheTtlMs: jwt.jwksCacheTtl,
        requireExpiration: jwt.requireExpiration,
        tokenCacheSize: jwt.tokenCacheSize,
        digest: deps.sha256Hex,
        clock: deps.clock,
        fetch: deps.fetch,
      })
    : undefined;
  const limiterOptions = { store: deps.rateLimitStore, clock: deps.clock, onError: config.storeOptions.onError, log: deps.log, counters: deps.counters };
  const limiter = rateLimit({ ...limiterOptions, policies: policyResolver(config, config.storeOptions.keyPrefix) });
  // Webhook flows again once the signature proved the sender: its own budget, whatever addresses it sends from.
  const senderLimiter = rateLimit({ ...limiterOptions, policies: senderPolicyResolver(config.storeOptions.keyPrefix) });
  const failureLimit = config.auth.failureLimit
    ? authFailureLimiter({
        limit: config.auth.failureLimit,
        store: deps.rateLimitStore,
        clock: deps.clock,
        keyPrefix: config.storeOptions.keyPrefix,
        onError: config.storeOptions.onError,
        counters: deps.counters,
      })
    : undefined;
  // The one place a client address is worked out; every address-keyed store gets it through the caller id.
  const resolveAddress = clientAddressResolver({
    trustProxy: config.server.trustProxy,
    forwardedHeader: config.server.forwardedHeader,
    ipv6Prefix: config.anonymous.ipv6Prefix,
    platform: deps.platformClientAddress,
  });
  const clientAddress = (c: Context<AppEnv>) => resolveAddress((name) => c.req.header(name), deps.clientIp(c));
  const identifyCaller = identify({ callers: config.callers, clientAddress, verifyJwt, failureLimit, digest: deps.sha256Hex });
  const run = runHandler(deps);
  const ack = ackHandler(deps);
  app.route('/', executionsRoute(deps, identifyCaller));
  if (config.server.metrics.port === undefined) app.route('/', metricsRoute(deps, identifyCaller));

  // One pipeline behind both ways in: /flows/{name}/run (flow by name) and the configured routes (flow by route).
  const pipeline = [
    identifyCaller,
    authorize(),
    limiter,
    readBody({ maxBodySize: config.server.maxBodySize }),
    verifyWebhook({ flows: config.flows, clock: deps.clock, maxJsonDepth: config.server.maxJsonDepth, hmac: deps.webhookHmac }),
    senderLimiter,
    parseInput({ maxJsonDepth: config.server.maxJsonDepth }),
    validateInput(config.flows),
    // Before any response cache: a replay must come from the key's own record, never from a shared entry.
    idempotency({
      store: deps.records,
      random: deps.random,
      storeTimeoutMs: config.storeOptions.timeout,
      onError: config.storeOptions.onError,
      upstreamTimeoutMs: config.upstream.timeout,
      digest: deps.sha256Hex,
    }),
  ] as const;
  const execute: Handler<AppEnv> = (c) => (c.get('flow').mode === 'ack' ? ack(c) : run(c));

  app.post('/flows/:name/run', resolveFlow(config.flows), ...pipeline, execute);
  app.all('/flows/:name/run', () => {
    throw gatewayError('MethodNotAllowed', undefined, { headers: { allow: 'POST' } });
  });
  app.delete('/flows/:name/cache', resolveFlow(config.flows), identifyCaller, purgeCacheHandler(deps));
  app.all('/flows/:name/cache', () => {
    throw gatewayError('MethodNotAllowed', undefined, { headers: { allow: 'DELETE' } });
  });

  // Last, so flowgate's own paths always win (the config loader refuses routes that could match them).
  if (config.routes.length) app.all('*', matchRoute(config.routes, config.flows), ...pipeline, execute);

  app.notFound((c) => renderError(c, gatewayError('NotFound', undefined)));
  app.onError((err, c) => renderError(c, err));
  return app;
}

/** The single place an error becomes a response: the CloudFlow envelope, the table's status, no internals. */
function renderError(c: Context<AppEnv>, err: Error): Response {
  const log = c.get('log');
  const error = asGatewayError(err, log);
  if (log) log.error = error.code;
  const requestId = c.get('requestId') ?? '';
  return c.json(errorBody(requestId, error), error.status as 400, error.headers);
}
