import type { MiddlewareHandler } from 'hono';
import type { AppEnv, FlowConfig } from '../env.js';
import { gatewayError } from '../errors.js';
import { compileSchema, type SchemaViolation } from '../schema/json-schema.js';

/** At most this many failing places are listed; a pointer is cut at this many characters. */
const MAX_VIOLATIONS = 10;
const MAX_POINTER = 200;

/**
 * `flows.<name>.inputSchema`, enforced: an Input that does not match is 400 `InvalidArgument` before any upstream
 * call or Idempotency-Key claim. The message and the `Errors` field list each failing place as a JSON pointer
 * (RFC 6901) and the keyword that failed (at most 10), never a value. Each schema is compiled here, once; the
 * config loader has checked it against the 2020-12 meta-schema.
 */
export function validateInput(flows: Record<string, FlowConfig>): MiddlewareHandler<AppEnv> {
  const validators = new Map<string, (value: unknown) => SchemaViolation[]>();
  for (const flow of Object.values(flows)) if (flow.inputSchema !== undefined) validators.set(flow.name, compileSchema(flow.inputSchema, MAX_VIOLATIONS));
  // Not async: nothing here waits (docs/design.md, "Rules for the hot path").
  return function validateInput(c, next) {
    const validate = validators.get(c.get('flow').name);
    if (!validate) return next();
    const violations = validate(c.get('input').value);
    if (violations.length === 0) return next();
    const errors = violations.map((v) => ({
      Pointer: v.pointer.length > MAX_POINTER ? `${v.pointer.slice(0, MAX_POINTER)}...` : v.pointer,
      Keyword: v.keyword,
    }));
    const listed = errors.map((e) => `${e.Pointer === '' ? '(root)' : e.Pointer} (${e.Keyword})`).join(', ');
    throw gatewayError('InvalidArgument', `The Input does not match the flow's inputSchema at ${listed}.`, { extra: { Errors: errors } });
  };
}
