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
import { flowName, type Action } from './types.js';

export const startSyncExecution: Action = async ({ params, store, engine, uuid, signal, maxInputSize, maxDepth }) => {
  const name = flowName(params, 'FlowName');
  const executionName = params.ExecutionName;
  if (executionName !== undefined && !CLOUDFLOW_NAME.test(executionName)) {
    throw emulatorError('InvalidArgument', `ExecutionName must be ${CLOUDFLOW_NAME_IN_WORDS}.`);
  }
  const input = parseInput(params.Input, maxInputSize, maxDepth);
  const { flow, version } = store.resolve(name, params.Qualifier);
  // No execution starts, so there is no Name or time to report: an HTTP error rather than a Failed body.
  if (version.definition.mode !== 'Express') throw emulatorError('ActionNotSupported', 'Standard execution is not supported.');

  // The UUID makes every execution name unique, so ExecutionAlreadyExists never applies here.
  const execution = `${executionName ?? uuid()}:${uuid()}`;
  const result = await engine.execute(version.definition, input, { executionName: execution, flowName: flow.name, signal });
  return {
    FlowName: flow.name,
    Name: execution,
    Status: result.status,
    ...(result.status === 'Succeeded' ? { Output: stringifyExact(result.output ?? {}) } : {}),
    ...(result.errorCode !== undefined ? { ErrorCode: result.errorCode } : {}),
    ...(result.errorMessage !== undefined ? { ErrorMessage: result.errorMessage } : {}),
    StartedTime: isoTime(result.startedAt),
    StoppedTime: isoTime(result.stoppedAt),
    // The response model's Environment: the flow's variables, by name and value.
    ...(flow.environment ? { Environment: { Variables: flow.environment.Variables.map(({ Name, Value }) => ({ Name, Value })) } } : {}),
  };
};

/** The Input as an engine value: numbers keep their exact text; nesting past `maxDepth` is refused before parsing. */
function parseInput(text: string | undefined, maxInputSize: number, maxDepth: number): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  if (utf8(text).byteLength > maxInputSize) {
    throw emulatorError('EntityTooLarge', String(maxInputSize));
  }
  let value: unknown;
  try {
    value = parseExact(text, maxDepth);
  } catch (error) {
    if (error instanceof JsonDepthError) throw emulatorError('InvalidArgument', `Input is nested deeper than ${maxDepth} levels.`);
    throw emulatorError('InvalidArgument', 'Input is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw emulatorError('InvalidArgument', 'Input must be a JSON object.');
  return value as Record<string, unknown>;
}
