import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { gatewayError } from '../errors.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { executionNameFor } from '../executions/name.js';
import { jsonDepthExceeds } from '../lib/json-depth.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function hasBom(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

export interface ParseInputOptions {
  maxJsonDepth: number;
}

/**
 * Turns the raw body into the execution Input and reads the optional request parts.
 * The Input is sent as the body text itself, not re-serialized: that keeps numbers such as
 * 12345678901234567890 exact and costs no second serialization.
 */
export function parseInput(options: ParseInputOptions): MiddlewareHandler<AppEnv> {
  const { maxJsonDepth } = options;
  if (!Number.isInteger(maxJsonDepth) || maxJsonDepth <= 0) throw new TypeError('maxJsonDepth must be a positive integer');
  // Not async: nothing here waits (docs/design.md, "Rules for the hot path").
  return function parseInput(c, next) {
    const flow = c.get('flow');
    const raw = c.get('rawBody');
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      throw gatewayError('InvalidArgument', 'The body is not valid UTF-8.');
    }
    let input: Record<string, unknown>;
    // The decoder checked the bytes and drops only a leading BOM, so the Input's UTF-8 size is known without re-encoding it.
    let inputBytes = raw.byteLength - (hasBom(raw) ? 3 : 0);
    if (text.trim() === '') {
      text = '{}';
      input = {};
      inputBytes = 2;
    } else {
      if (jsonDepthExceeds(text, maxJsonDepth)) throw gatewayError('InvalidArgument', `The JSON body is nested deeper than ${maxJsonDepth} levels.`);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw gatewayError('InvalidArgument', 'The body is not valid JSON.');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw gatewayError(
          'InvalidArgument',
          `The body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}.`,
        );
      }
      input = value as Record<string, unknown>;
    }
    if (inputBytes > flow.maxInputSize) throw gatewayError('EntityTooLarge', flow.maxInputSize);

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

    c.set('inputText', text);
    c.set('input', input);
    c.set('executionName', executionName);
    c.set('qualifier', qualifier);
    return next();
  };
}
