import type { StoredResponse } from '../records/types.js';

export type ExecutionStatus = 'Running' | 'Succeeded' | 'Failed';

/**
 * The outcome of an `ack` execution, readable at `GET /executions/{name}`. `name` is the request's
 * execution name (known at 202 time); CloudFlow's `{name}:{UUID}` arrives later as `upstreamName`.
 * Records are kept per caller (see `executionKey`), so one caller's names never block another's.
 */
export interface ExecutionRecord {
  flow: string;
  /** Who started it: only this caller (or an admin) may read it. */
  callerId: string;
  requestId: string;
  status: ExecutionStatus;
  startedAt: number;
  /** After this instant a record still `Running` was abandoned by a process that died. */
  leaseUntil: number;
  stoppedAt?: number;
  upstreamName?: string;
  response?: StoredResponse;
}

/**
 * The record key of execution `name` started by caller `callerId`. Names never contain `:`, so the key
 * splits back at its last `:` and two different (caller, name) pairs never share a key, whatever the
 * caller id holds (`jwt:<sub>`, `ip:2001:db8::1`).
 */
export const executionKey = (callerId: string, name: string): string => `exec:${callerId}:${name}`;

/** Longer than any upstream answer may take, so a live run is never mistaken for a dead one. */
export const LEASE_MARGIN_MS = 30_000;
