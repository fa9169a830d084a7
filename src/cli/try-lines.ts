/**
 * The `try:` lines `flowgate serve` prints: for each flow, a call that would work as printed once the
 * placeholders are filled. A protected flow gets a key header placeholder naming who may call it, a flow that
 * needs an Idempotency-Key gets one, a flow with required input fields gets them; a webhook flow cannot be
 * called by hand (its sender signs each delivery), so its line says where to point the sender instead.
 */
import type { Config, FlowConfig } from '../config/load.js';

/** A value of the JSON Schema `type` given, for a required field of a try line's body. */
function sample(schema: unknown): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  switch (Array.isArray(type) ? type[0] : type) {
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '…';
  }
}

/** `{}`, or the flow's required input fields with a placeholder each. */
function sampleBody(flow: FlowConfig): string {
  const schema = flow.inputSchema as { required?: unknown; properties?: Record<string, unknown> } | undefined;
  const required = Array.isArray(schema?.required) ? schema.required.filter((name): name is string => typeof name === 'string') : [];
  return JSON.stringify(Object.fromEntries(required.map((name) => [name, sample(schema?.properties?.[name])])));
}

/** The credential header a caller of `flow` sends, as a placeholder; undefined for a public flow. */
function credentialHeader(config: Config, flow: FlowConfig): string | undefined {
  if (flow.access === 'public') return undefined;
  const names = Array.isArray(flow.access) ? flow.access : Object.keys(config.callers);
  const keyed = names.filter((name) => config.callers[name]?.apiKeys.length);
  if (keyed.length) return `-H 'x-api-key: <API key of ${keyed.join(' or ')}>'`;
  return `-H 'authorization: Bearer <token of ${Array.isArray(flow.access) ? flow.access.join(' or ') : 'a caller'}>'`;
}

/** One line per flow (without the `try: ` prefix), in config order. */
export function tryLines(config: Config, gatewayUrl: string): string[] {
  return Object.values(config.flows).map((flow) => {
    const url = `${gatewayUrl}/flows/${flow.name}/run`;
    if (flow.webhook) return `${flow.name}: POST ${url} is signed by the sender (${flow.webhook.provider}); point its webhook at this URL`;
    const parts = [`curl -s -X POST ${url}`, `-H 'content-type: application/json'`];
    const credential = credentialHeader(config, flow);
    if (credential) parts.push(credential);
    if (flow.idempotency?.required) parts.push(`-H 'idempotency-key: <a new unique key per operation>'`);
    parts.push(`-d '${sampleBody(flow)}'`);
    return parts.join(' ');
  });
}
