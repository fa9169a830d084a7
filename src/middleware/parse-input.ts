import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { executionNameFor } from '../executions/name.js';
import { jsonInput } from './input.js';
import { renderInput } from '../routes/input-template.js';

export interface ParseInputOptions {
  maxJsonDepth: number;
}

/**
 * Turns the raw body into the execution Input and reads the optional request parts. A JSON body is sent as
 * the body text itself, not re-serialized: that keeps numbers such as 12345678901234567890 exact and costs
 * no second serialization. A webhook flow's body was already decoded by `verifyWebhook` (form fields, a
 * `payload` field, text); a route's Input is built by its template (routes/input-template.ts). `maxInputSize`
 * applies to the Input as it will be sent, however it was made.
 */
export function parseInput(options: ParseInputOptions): MiddlewareHandler<AppEnv> {
  const { maxJsonDepth } = options;
  if (!Number.isInteger(maxJsonDepth) || maxJsonDepth <= 0) throw new TypeError('maxJsonDepth must be a positive integer');
  // Not async: nothing here waits (docs/design.md, "Rules for the hot path").
  return function parseInput(c, next) {
    const flow = c.get('flow');
    const route = c.get('route');
    const decoded = route
      ? renderInput(route.config.input, {
          path: route.params,
          query: (name) => c.req.query(name),
          header: (name) => c.req.header(name),
          body: c.get('rawBody'),
          maxJsonDepth,
        })
      : (c.get('decodedInput') ?? jsonInput(c.get('rawBody'), maxJsonDepth));
    if (decoded.bytes > flow.maxInputSize) throw gatewayError('EntityTooLarge', flow.maxInputSize);

    const offeredName = c.req.header('x-execution-name');
    let executionName: string;
    if (offeredName !== undefined) {
      if (!CLOUDFLOW_NAME.test(offeredName)) throw gatewayError('InvalidArgument', `X-Execution-Name must match ${CLOUDFLOW_NAME.source}.`);
      executionName = offeredName;
    } else {
      executionName = executionNameFor(c.get('requestId'));
    }

    let qualifier = flow.qualifier;
    const requested = c.req.query('qualifier');
    if (requested !== undefined) {
      if (!flow.qualifiers.includes(requested)) throw gatewayError('InvalidArgument', `The qualifier is not allowed for flow ${flow.name}.`);
      qualifier = requested;
    }

    // The decoded Input itself, neither its text nor its value: a JSON body's text is decoded again when read rather
    // than kept for the whole request (input.ts, RawJsonInput), and reading `value` would parse a body nothing reads.
    c.set('input', decoded);
    c.set('executionName', executionName);
    c.set('qualifier', qualifier);
    return next();
  };
}
