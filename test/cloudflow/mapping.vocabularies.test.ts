import { describe, expect, it } from 'vitest';
import { mapUpstreamError } from '../../src/cloudflow/mapping.js';
import { CloudFlowError } from '../../src/cloudflow/types.js';
import { API_ERRORS, POP_ERRORS, STS_ERRORS } from '../../src/emulator/index.js';

/**
 * CloudFlow may answer a refused call in either vocabulary: the API reference's StartSyncExecution table
 * (`SignatureNotMatch` 403, `InvalidAccessKeyID` 403, `RequestTimeTooSkewed` 403, `AccessDenied` 403, …) or the
 * POP gateway's (`SignatureDoesNotMatch` 400, `InvalidAccessKeyId.NotFound` 404, `InvalidTimeStamp.Expired` 400,
 * `Forbidden.RAM` 403, `Throttling.User` 400, …). The gateway's mapping must give a caller the same answer for the
 * same failure whichever it is. Every row of both of the emulator's tables, and the STS codes common to both
 * (`InvalidSecurityToken.Expired`), is mapped here; e2e.emulator.test.ts
 * does the same through real HTTP against an emulator speaking each vocabulary.
 */
const ctx = { timeoutMs: 1000, maxInputSize: 65_536 };
const map = (status: number, code: string) => mapUpstreamError(new CloudFlowError('http', `${status} ${code}`, { status, code, durationMs: 1 }), ctx);

/** What a caller should see, by what the failure means. */
function expected(code: string): [number, string] {
  if (code === 'ResourceThrottled' || code === 'Throttling.User') return [429, 'ResourceThrottled'];
  if (code === 'EntityTooLarge') return [413, 'EntityTooLarge'];
  // Keys, signatures, clocks, permissions, missing flows, versions, the service's own faults: flowgate's setup or
  // CloudFlow's trouble, never the caller's detail to see.
  return [502, 'UpstreamError'];
}

const rows = [...Object.entries(API_ERRORS), ...Object.entries(POP_ERRORS), ...Object.entries(STS_ERRORS), ['Throttling.User', { status: 400 }] as const].map(
  ([code, row]) => [code, row.status] as const,
);

describe('the result mapping treats both vocabularies alike', () => {
  it.each(rows)('%s (HTTP %i)', (code, status) => {
    const error = map(status, code);
    expect([error.status, error.code]).toEqual(expected(code));
    if (error.status === 429) expect(error.headers['retry-after']).toBe('1');
  });

  it.each([
    ['SignatureNotMatch', 403, 'SignatureDoesNotMatch', 400],
    ['InvalidAccessKeyID', 403, 'InvalidAccessKeyId.NotFound', 404],
    ['RequestTimeTooSkewed', 403, 'InvalidTimeStamp.Expired', 400],
    ['MissingRequiredHeader', 400, 'IncompleteSignature', 400],
    ['AccessDenied', 403, 'Forbidden.RAM', 403],
    ['ResourceThrottled', 429, 'Throttling.User', 400],
  ] as const)('%s and its POP counterpart %s give the same answer', (api, apiStatus, pop, popStatus) => {
    const a = map(apiStatus, api);
    const p = map(popStatus, pop);
    expect([a.status, a.code, a.message]).toEqual([p.status, p.code, p.message]);
  });
});
