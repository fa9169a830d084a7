import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { resolveCredentials, type CredentialsSpec } from './credentials.js';
import { endpointUrl, regionEndpoint } from '../cloudflow/client.js';
import { flowWebhookVerifier } from '../webhooks/from-config.js';
import { trustProxyWarnings } from '../lib/client-address.js';
import { corsNeeds, corsProblems } from './cors.js';
import { utf8 } from '../lib/bytes.js';
import { configSchema, type ParsedConfig, type ParsedFlow } from './schema.js';
import { perProcessWarning, storeTarget } from './store.js';
import { compileRoutes, routeWarnings, type RouteConfig } from './routes.js';
import { pointerAsKeyPath, schemaProblems } from '../schema/json-schema.js';

export type Access = 'public' | 'authenticated' | string[];

export interface FlowConfig extends Omit<ParsedFlow, 'flowName' | 'access'> {
  /** The exposed name: `POST /flows/{name}/run`. */
  name: string;
  /** The CloudFlow FlowName it runs. */
  flowName: string;
  access: Access;
}

export interface Config extends Omit<ParsedConfig, 'flows' | 'upstream' | 'routes'> {
  upstream: Omit<ParsedConfig['upstream'], 'credentials' | 'endpoint'> & { endpoint: string; credentials: CredentialsSpec };
  flows: Record<string, FlowConfig>;
  /** `routes:`, checked against the flows and compiled (config/routes.ts). */
  routes: RouteConfig[];
  /**
   * Settings that load but are almost certainly not what was meant, phrased like ConfigError's issues
   * (`server.trustProxy.0: …`); `flowgate check` and `flowgate serve` print them. Empty when there are none.
   */
  warnings: string[];
}

/** A config problem, already phrased for a person: each line starts with the key path. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

type Env = Record<string, string | undefined>;

/** Parses YAML or JSON text (JSON is YAML). */
export function parseConfigText(text: string, env: Env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new ConfigError([`(file): not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(raw, env);
}

/** Validates a config object against the contract. Pure: the environment is passed in. */
export function parseConfig(raw: unknown, env: Env): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['(root): expected a mapping with "upstream" and "flows"']);
  const issues: string[] = [];
  const interpolated = interpolate(raw, env, [], issues);
  if (issues.length) throw new ConfigError(issues);
  const result = configSchema.safeParse(interpolated);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues));
  return resolve(result.data, env);
}

function resolve(parsed: ParsedConfig, env: Env): Config {
  const issues: string[] = [];
  const { upstream } = parsed;
  let endpoint = '';
  if (upstream.endpoint !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(upstream.endpoint)) {
    // Guessing https would turn `127.0.0.1:9400` (the emulator, a local stand-in) into TLS to a plain-HTTP port.
    const shown = upstream.endpoint.slice(0, 100);
    issues.push(`upstream.endpoint: needs a scheme: write "http://${shown}" for a local endpoint such as the emulator, or "https://${shown}" for CloudFlow`);
  } else {
    try {
      endpoint = endpointUrl(upstream.endpoint ?? regionEndpoint(upstream.region!)).origin;
    } catch {
      issues.push(`upstream.endpoint: not a valid http(s) URL`);
    }
  }
  const credentials = resolveCredentials(upstream.credentials, env, issues);
  const callerNames = new Set(Object.keys(parsed.callers));
  const hasIdentities = callerNames.size > 0 || Boolean(parsed.auth.jwt);
  const flows: Record<string, FlowConfig> = {};
  for (const [name, flow] of Object.entries(parsed.flows)) {
    // Without an access list a flow is public when nobody is identified, and needs a known caller otherwise.
    const access: Access = flow.access ?? (hasIdentities && !flow.webhook ? 'authenticated' : 'public');
    if (Array.isArray(access) && access.length === 0) {
      issues.push(`flows.${name}.access: an empty list lets no caller run the flow; name callers, or use "public" or "authenticated"`);
    } else if (Array.isArray(access)) {
      access.forEach((entry, i) => issues.push(...accessEntryIssues(entry, `flows.${name}.access.${i}`, callerNames, Boolean(parsed.auth.jwt))));
    }
    flow.qualifiers.forEach((q, i) => {
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(q)) issues.push(`flows.${name}.qualifiers.${i}: not a valid qualifier (letters, digits, _ . -)`);
    });
    for (const key of ['inputSchema', 'outputSchema'] as const) {
      // Checked here, against the meta-schema, so `flowgate check` names the broken place rather than a request failing later.
      if (flow[key] !== undefined) issues.push(...schemaProblems(flow[key]).map((p) => `flows.${name}.${key}${pointerAsKeyPath(p.pointer)}: ${p.message}`));
    }
    if (flow.response.mode === 'proxy' && flow.mode === 'ack')
      issues.push(`flows.${name}.response: "proxy" shapes a synchronous answer; an ack flow answers 202 at once`);
    if (flow.response.mode === 'body' && flow.response.allowSetCookie) issues.push(`flows.${name}.response.allowSetCookie: applies to mode "proxy" only`);
    if (flow.webhook) {
      // The factory's own checks (secret whitespace, header syntax) stop the start here rather than refuse every delivery later.
      try {
        flowWebhookVerifier(name, flow.webhook);
      } catch (error) {
        issues.push((error as Error).message);
      }
    }
    flows[name] = { ...flow, name, flowName: flow.flowName ?? name, access };
  }
  const seenKeys = new Map<string, string>();
  for (const [callerName, caller] of Object.entries(parsed.callers)) {
    // These prefixes are the ids of token and anonymous callers; a configured name must not pose as one.
    if (/^(?:ip|jwt|webhook):/.test(callerName)) issues.push(`callers.${callerName}: names starting with "ip:", "jwt:" or "webhook:" are reserved`);
    caller.apiKeys.forEach((key, i) => {
      if (key.length < 16) issues.push(`callers.${callerName}.apiKeys.${i}: API keys must be at least 16 characters`);
      const other = seenKeys.get(key);
      if (other && other !== callerName) issues.push(`callers.${callerName}.apiKeys.${i}: the same key is also given to "${other}"`);
      seenKeys.set(key, callerName);
    });
  }
  issues.push(...jwtIssues(parsed.auth.jwt));
  const { trustProxy, forwardedHeader } = parsed.server;
  if (forwardedHeader !== undefined && (trustProxy === false || trustProxy === 'cloudflare')) {
    issues.push('server.forwardedHeader: read only when server.trustProxy is a hop count or a list of proxies');
  }
  const routes = compileRoutes(parsed.routes, flows, issues);
  if (parsed.server.cors) issues.push(...corsProblems(parsed.server.cors, corsNeeds({ ...parsed, routes })).map((p) => `server.cors.${p.path}: ${p.message}`));
  issues.push(...storeIssues(parsed));
  if (parsed.server.metrics.port !== undefined && parsed.server.workers !== 1) issues.push(`server.metrics.port: ${METRICS_PORT_WITH_WORKERS}`);
  if (issues.length) throw new ConfigError(issues);
  const warnings = [...trustProxyWarnings(trustProxy).map((w) => `server.trustProxy${w.path}: ${w.message}`), ...routeWarnings(routes)];
  const perProcess = perProcessWarning(parsed.store, parsed.server.workers);
  if (perProcess) warnings.push(`server.workers: ${perProcess}`);
  return { ...parsed, upstream: { ...upstream, endpoint, credentials: credentials! }, flows, routes, warnings };
}

/**
 * Why `server.metrics.port` and several workers are refused together: node:cluster would share that port too,
 * so each scrape would read whichever worker took the connection, and counters would jump between processes.
 */
export const METRICS_PORT_WITH_WORKERS =
  'a metrics port of its own is served by one process; with several workers each scrape would reach one of them at random. Remove it (GET /metrics on the main port answers for the worker that takes the request) or run one worker';

/**
 * A store that cannot work stops the start. On Redis Cluster every key of one decision shares a hash tag
 * that flowgate places (`{caller}`, `{flow}`); a brace in the prefix would move the tag and split them
 * across slots (CROSSSLOT), so the prefix may not have one there.
 */
function storeIssues(parsed: ParsedConfig): string[] {
  const issues: string[] = [];
  // The schema has refused a store that does not parse; here it is read again for what depends on other keys.
  const target = storeTarget(parsed.store);
  if (target?.kind === 'cluster' && /[{}]/.test(parsed.storeOptions.keyPrefix)) {
    issues.push('storeOptions.keyPrefix: may not contain "{" or "}" with a cluster store: flowgate places the hash tags that keep a decision in one slot');
  }
  return issues;
}

/**
 * One `access` entry must be able to match someone, or the flow refuses a caller its author meant to
 * let in. The rule it is checked against (and authorize applies): a configured caller is named by its
 * name, however it authenticated, so `jwt:<name of a configured caller>` could never match; `jwt:<value>`
 * and `jwt:*` stand for token callers that are not configured callers, and need `auth.jwt`.
 * Anonymous (`ip:`) and webhook callers are never matched by a list, so those forms are refused too.
 */
function accessEntryIssues(entry: string, path: string, callerNames: Set<string>, hasJwt: boolean): string[] {
  if (callerNames.has(entry)) return [];
  if (!entry.startsWith('jwt:')) {
    return [entry.includes(':') ? `${path}: not a caller name, "jwt:<claim value>" or "jwt:*"` : `${path}: not a caller defined under "callers"`];
  }
  if (!hasJwt) return [`${path}: "jwt:" entries match token callers, but auth.jwt is not configured`];
  const value = entry.slice(4);
  if (value === '') return [`${path}: "jwt:" needs a claim value or "*"`];
  if (callerNames.has(value)) return [`${path}: a token whose claim names a configured caller is that caller; list the caller's name instead`];
  return [];
}

/** HS* algorithms need the shared secret, RS/ES/PS the JWKS; a short HMAC secret can be brute-forced offline (RFC 7518 §3.2). */
function jwtIssues(jwt: ParsedConfig['auth']['jwt']): string[] {
  if (!jwt) return [];
  const issues: string[] = [];
  if (jwt.secret !== undefined && utf8(jwt.secret).length < 32) issues.push('auth.jwt.secret: must be at least 32 bytes for HS256');
  (jwt.algorithms ?? []).forEach((alg, i) => {
    const hmac = alg.startsWith('HS');
    if (hmac && !jwt.secret) issues.push(`auth.jwt.algorithms.${i}: ${alg} needs "secret", not "jwksUrl"`);
    if (!hmac && !jwt.jwksUrl) issues.push(`auth.jwt.algorithms.${i}: ${alg} needs "jwksUrl", not "secret"`);
  });
  return issues;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string leaf; a missing variable is an error naming the key path. */
function interpolate(value: unknown, env: Env, path: (string | number)[], issues: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push(`${formatPath(path)}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], issues));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k], issues);
    return out;
  }
  return value;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    // The message must never echo a configured value that could be a secret; zod's built-in messages do not.
    return `${formatPath(issue.path)}: ${message}`;
  });
}
