/**
 * StartSyncExecution (CloudFlow API reference, StartSyncExecution): runs an Express flow to its end and answers with
 * its result. An execution that fails or times out is still HTTP 200, with `Status` and `ErrorCode`/`ErrorMessage`;
 * only calls that never start an execution are HTTP errors.
 */
import { utf8 } from '../../lib/bytes.js';
import { JsonDepthError, parseExact, stringifyExact } from '../engine/index.js';
import { emulatorError } from '../errors.js';
import { CLOUDFLOW_NAME, CLOUDFLOW_NAME_IN_WORDS } from '../../cloudflow/types.js';
import { isoTime } from '../../lib/iso-time.js';
import type { Action } from './types.js';

export const startSyncExecution: Action = async ({ params, store, engine, uuid, signal, maxInputSize, maxDepth }) => {
  const flowName = params.FlowName;
  if (!flowName) throw emulatorError('MissingRequiredParams', 'The request must contain the parameter FlowName.');
  const executionName = params.ExecutionName;
  if (executionName !== undefined && !CLOUDFLOW_NAME.test(executionName)) {
    throw emulatorError('InvalidArgument', `Parameter error. ExecutionName must be ${CLOUDFLOW_NAME_IN_WORDS}.`);
  }
  const input = parseInput(params.Input, maxInputSize, maxDepth);
  const { flow, version } = store.resolve(flowName, params.Qualifier);
  // No execution starts, so there is no Name or time to report: an HTTP error rather than a Failed body.
  if (version.definition.mode !== 'Express') throw emulatorError('ActionNotSupported', 'Standard execution is not supported.');

  const name = `${executionName ?? uuid()}:${uuid()}`;
  const result = await engine.execute(version.definition, input, { executionName: name, flowName: flow.name, signal });
  return {
    FlowName: flow.name,
    Name: name,
    Status: result.status,
    ...(result.status === 'Succeeded' ? { Output: stringifyExact(result.output ?? {}) } : {}),
    ...(result.errorCode !== undefined ? { ErrorCode: result.errorCode } : {}),
    ...(result.errorMessage !== undefined ? { ErrorMessage: result.errorMessage } : {}),
    StartedTime: isoTime(result.startedAt),
    StoppedTime: isoTime(result.stoppedAt),
  };
};

/** The Input as an engine value: numbers keep their exact text; nesting past `maxDepth` is refused before parsing. */
function parseInput(text: string | undefined, maxInputSize: number, maxDepth: number): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  if (utf8(text).byteLength > maxInputSize) {
    throw emulatorError('EntityTooLarge', `The payload size exceeds maximum allowed size (${maxInputSize} bytes). Input is limited to ${maxInputSize} bytes.`);
  }
  let value: unknown;
  try {
    value = parseExact(text, maxDepth);
  } catch (error) {
    if (error instanceof JsonDepthError) throw emulatorError('InvalidArgument', `Parameter error. Input is nested deeper than ${maxDepth} levels.`);
    throw emulatorError('InvalidArgument', 'Parameter error. Input is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw emulatorError('InvalidArgument', 'Parameter error. Input must be a JSON object.');
  return value as Record<string, unknown>;
}
