import { ConfigError, parseConfigText, type Config } from '../../config/load.js';
import { workersCredentialIssues } from './credentials.js';

/** The bindings flowgate reads. Other bindings (Durable Objects, rate limiters) sit beside these. */
export interface WorkersConfigEnv {
  /** The gateway config as YAML or JSON text: a `[vars]` entry or a secret. */
  FLOWGATE_CONFIG?: unknown;
  [binding: string]: unknown;
}

export type ConfigOutcome = { ok: true; config: Config } | { ok: false; message: string; issues: string[] };

/** The longest value worth redacting; shorter env strings ("1", "v3") are too common to mask without garbling the message. */
const MIN_REDACTED_LENGTH = 6;
const MAX_ISSUES_SHOWN = 5;

/**
 * Builds the config from `env.FLOWGATE_CONFIG`, interpolating `${VAR}` from the string bindings
 * (vars and secrets such as ALIBABA_CLOUD_ACCESS_KEY_SECRET or API keys). Never throws: a bad
 * config becomes a message that names key paths and never a configured value.
 */
export function configFromEnv(env: WorkersConfigEnv): ConfigOutcome {
  const strings = stringBindings(env);
  const text = env.FLOWGATE_CONFIG;
  if (typeof text !== 'string' || text.trim() === '') {
    return failure(['FLOWGATE_CONFIG: not set; bind the gateway config (YAML or JSON) as a var or secret named FLOWGATE_CONFIG'], strings);
  }
  try {
    const config = parseConfigText(text, strings);
    const issues = workersCredentialIssues(config.upstream.credentials);
    // A Worker has one listener: /metrics is on it, with server.metrics.access deciding who reads it.
    if (config.server.metrics.port !== undefined)
      issues.push('server.metrics.port: a Worker serves one listener; remove it, and choose server.metrics.access (admin or public)');
    return issues.length > 0 ? failure(issues, strings) : { ok: true, config };
  } catch (error) {
    if (error instanceof ConfigError) return failure(error.issues, strings);
    // Not expected from the parser; still answer without the error text, which could quote the input.
    return failure(['(root): the configuration could not be read'], strings);
  }
}

/** Only string bindings are environment variables; objects (KV, Durable Objects, services) are not. */
export function stringBindings(env: WorkersConfigEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') out[name] = value;
  return out;
}

function failure(issues: string[], env: Record<string, string>): ConfigOutcome {
  const safe = issues.map((issue) => withoutValues(issue, env));
  const shown = safe.slice(0, MAX_ISSUES_SHOWN).join('; ');
  const more = safe.length > MAX_ISSUES_SHOWN ? ` (and ${safe.length - MAX_ISSUES_SHOWN} more)` : '';
  return { ok: false, message: `invalid configuration: ${shown}${more}`, issues: safe };
}

/**
 * Config messages are shown to whoever calls the Worker, so they keep the key path and the rule but
 * drop every echoed value: the parser quotes bad durations, sizes, rates, qualifiers and caller
 * references, and a `${SECRET}` placed under the wrong key would be echoed with them. As a last
 * guard, any bound var or secret value still present is masked.
 */
export function withoutValues(issue: string, env: Record<string, string>): string {
  let out = issue
    .replace(/,? got .*$/s, '')
    .replace(/unknown caller "[^"]*"/g, 'unknown caller')
    .replace(/"[^"]*" is not a valid qualifier/g, 'a qualifier is not valid')
    .replace(/\(the anchor must be set before the alias\): .*$/s, '(the anchor must be set before the alias)');
  const secrets = Object.values(env)
    .filter((value) => value.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const value of secrets) out = out.split(value).join('***');
  return out;
}
