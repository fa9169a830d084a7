import { parseJson } from '../lib/json.js';

/**
 * One record store behind delivery de-duplication, Idempotency-Key and `ack` execution records.
 * Values are JSON text so the memory and Redis stores behave the same. Implementations may reject;
 * callers wrap every call in `guardStoreCall` and decide about failures themselves.
 */
export interface RecordStore {
  /**
   * Claims `key` for `leaseMs` when nothing is stored there, atomically. Returns undefined when the claim
   * was made, or the value already stored (which then stays untouched).
   */
  claim(key: string, value: string, leaseMs: number): Promise<string | undefined>;
  /**
   * Replaces the claim holding `token` with `value` for `ttlMs`; also writes when the claim has expired
   * and nobody took the key since. False when someone else now holds it.
   */
  complete(key: string, token: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes the claim holding `token`, so the key may be used again; a no-op when someone else holds it. */
  release(key: string, token: string): Promise<void>;
  put(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | undefined>;
}

/** A response as stored for replay: only what a client needs to see the same answer again. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a de-duplication or Idempotency-Key record holds. `token` marks the owner of an in-flight claim. */
export type RequestRecord =
  | { state: 'in-flight'; token: string; fingerprint: string; executionName: string }
  | { state: 'done'; fingerprint: string; executionName: string; response: StoredResponse };

/** Reads a stored JSON record; anything unreadable counts as absent rather than failing the request. */
export function parseRecord<T>(text: string | undefined): T | undefined {
  return parseJson(text) as T | undefined;
}

/** The token field of a stored record, which is how compare-and-complete recognises its own claim. */
export function tokenOf(text: string): string | undefined {
  const record = parseRecord<{ token?: unknown }>(text);
  return typeof record?.token === 'string' ? record.token : undefined;
}
