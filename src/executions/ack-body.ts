import type { ExecutionStatus } from './record.js';

/** The body of a 202 acknowledgement; shared by the first answer and by answers to redeliveries. */
export function ackBody(requestId: string, executionName: string, status: ExecutionStatus) {
  return { RequestId: requestId, ExecutionName: executionName, Status: status, Location: `/executions/${executionName}` };
}
