/**
 * What `flowgate check` prints about a valid config: every route the gateway will serve, with its flow, access,
 * limits, cache and webhook, and every size and duration as it was resolved (bytes, milliseconds), so that what a
 * unit such as `64KB` (64,000 bytes) or `64KiB` (65,536 bytes) became is never a surprise.
 */
import type { Config, FlowConfig } from '../config/load.js';
import type { RateLimitSpec } from '../config/schema.js';

const bytes = (n: number) => `${n} bytes`;
const ms = (n: number) => `${n} ms`;
const rate = (r: { count: number; periodMs: number }) => `${r.count} per ${ms(r.periodMs)}`;

/** `rate 5 per 1000 ms, burst 10; quota 10000 per 86400000 ms`, or undefined for no limit. */
export function describeRateLimit(spec: Partial<RateLimitSpec> | undefined): string | undefined {
  if (!spec) return undefined;
  const parts = [spec.rate ? `rate ${rate(spec.rate)}, burst ${spec.burst}` : '', spec.quota ? `quota ${rate(spec.quota)}` : ''];
  return parts.filter(Boolean).join('; ');
}

function describeAccess(flow: FlowConfig): string {
  if (flow.webhook) return `signed by the sender (${flow.webhook.provider})`;
  if (Array.isArray(flow.access)) return `callers ${flow.access.join(', ')}`;
  return flow.access === 'public' ? 'public' : 'any authenticated caller';
}

/** The lines of one flow's run route: the route line, then its settings indented under it. */
function flowLines(flow: FlowConfig, upstreamTimeout: number): string[] {
  const target = `${flow.flowName}${flow.qualifier ? `@${flow.qualifier}` : ''}`;
  const lines = [`  POST   /flows/${flow.name}/run -> ${target} [access ${describeAccess(flow)}]${flow.mode === 'ack' ? ' (ack)' : ''}`];
  const detail = (text: string) => lines.push(`           ${text}`);
  detail(`maxInputSize: ${bytes(flow.maxInputSize)}; timeout: ${flow.timeout !== undefined ? ms(flow.timeout) : `${ms(upstreamTimeout)} (upstream.timeout)`}`);
  detail(`rateLimit (per caller on this flow): ${describeRateLimit(flow.rateLimit) ?? 'none'}`);
  detail(`cache: ${flow.cache ? `ttl ${ms(flow.cache.ttl)}, scope ${flow.cache.scope}` : 'off'}`);
  if (flow.webhook) {
    const w = flow.webhook;
    detail(
      `webhook: ${w.provider}, ${w.secrets?.length ?? 0} secret(s)${w.publicKey ? ', public key' : ''}; tolerance ${w.tolerance !== undefined ? ms(w.tolerance) : 'none (the sender signs no timestamp)'}; dedupeTtl ${ms(w.dedupeTtl)}`,
    );
  }
  if (flow.idempotency) detail(`idempotency: ttl ${ms(flow.idempotency.ttl)}, Idempotency-Key ${flow.idempotency.required ? 'required' : 'optional'}`);
  if (flow.qualifiers.length) detail(`?qualifier= allowed: ${flow.qualifiers.join(', ')}`);
  const errors = Object.entries(flow.errors);
  if (errors.length) detail(`errors: ${errors.map(([code, status]) => `${code} -> ${status}`).join(', ')}`);
  return lines;
}

/** The routes and resolved values of a valid config, one string per line. */
export function describeConfig(config: Config): string[] {
  const { server, storeOptions, cache, upstream } = config;
  const lines = [
    `upstream timeout: ${ms(upstream.timeout)}; connections: ${upstream.connections}`,
    `server: port ${server.port}, host ${server.host}, workers ${server.workers}; maxBodySize: ${bytes(server.maxBodySize)}; maxJsonDepth: ${server.maxJsonDepth}`,
    `  headersTimeout: ${ms(server.headersTimeout)}; requestTimeout: ${ms(server.requestTimeout)}; keepAliveTimeout: ${ms(server.keepAliveTimeout)}; shutdownTimeout: ${ms(server.shutdownTimeout)}`,
    `store options: timeout ${ms(storeOptions.timeout)}; onError ${storeOptions.onError}; keyPrefix ${storeOptions.keyPrefix}; maxKeys ${storeOptions.maxKeys}; recordsMaxSize: ${bytes(storeOptions.recordsMaxSize)}; executionTtl: ${ms(storeOptions.executionTtl)}`,
    `cache: maxSize: ${bytes(cache.maxSize)}; maxEntrySize: ${bytes(cache.maxEntrySize)}; lockWait: ${ms(cache.lockWait)}`,
    'limits:',
    `  anonymous (per client address): ${describeRateLimit(config.anonymous.rateLimit) ?? 'none'}`,
  ];
  for (const [name, caller] of Object.entries(config.callers)) {
    lines.push(
      `  caller ${name}${caller.admin ? ' (admin)' : ''}: ${caller.apiKeys.length} API key(s); ${describeRateLimit(caller.rateLimit) ?? 'no caller-wide limit'}`,
    );
  }
  if (config.auth.jwt)
    lines.push(`  token callers (auth.jwt) that are not configured callers: ${describeRateLimit(config.auth.jwt.defaultRateLimit) ?? 'none'}`);
  lines.push(`  failed authentications per client address: ${config.auth.failureLimit ? describeRateLimit(config.auth.failureLimit) : 'off'}`);
  lines.push('routes:');
  for (const flow of Object.values(config.flows)) lines.push(...flowLines(flow, upstream.timeout));
  // Routes of the operator's own run their flow through the same pipeline: the flow's access, limits and cache apply.
  for (const route of config.routes) {
    const flow = config.flows[route.flow]!;
    lines.push(
      `  ${route.method.padEnd(6)} ${route.path} -> flow ${route.flow} (${route.key}) [access ${describeAccess(flow)}]${flow.mode === 'ack' ? ' (ack)' : ''}`,
      `           the flow's limits, cache and sizes above; ${route.readsBody ? 'reads the body' : 'reads no body'}`,
    );
  }
  const ack = Object.values(config.flows).some((flow) => flow.mode === 'ack');
  lines.push(
    `  GET    /executions/{name} -> where an ack execution stands [access the caller that started it; admin with ?caller=]${ack ? '' : ' (no flow uses mode: ack)'}`,
    `  DELETE /flows/{name}/cache -> drops a flow's cached answers [access admin callers]`,
    `  GET    /metrics -> Prometheus text format${server.workers === 1 ? '' : ', of the worker process that takes the request'} [access ${server.metrics.port !== undefined ? `on its own port ${server.metrics.port}, no credential` : server.metrics.access === 'admin' ? 'admin callers' : 'public'}]`,
    '  GET    /flows -> the exposed flows [access public]',
    '  GET    /healthz -> liveness [access public]',
    '  GET    /readyz -> readiness of credentials and stores [access public]',
    '  GET    /openapi.json -> OpenAPI 3.1 of these routes [access public]',
  );
  return lines;
}
