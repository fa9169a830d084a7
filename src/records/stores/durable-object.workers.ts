import { sha256Hex } from '../../cloudflow/signing/digests.js';
import { isDurableObjectNamespace, type DurableObjectNamespaceOf } from '../../platform/workers/durable-objects/namespace.js';
import type { RecordStore } from '../types.js';

/** A stub of one `FlowgateRecords` object (platform/workers/durable-objects/flowgate-records.ts): its RPC methods. */
export interface RecordsStub extends RecordStore {
  advance(key: string, floor: number): Promise<number>;
}

/** The `RECORDS` Durable Object namespace binding. */
export type RecordsNamespace = DurableObjectNamespaceOf<RecordsStub>;

/**
 * The object that owns `key`: one per key, named by the key's SHA-256, so load spreads over as many
 * objects as there are records and no client-supplied text (an Idempotency-Key) names an object.
 */
export async function recordsStubFor(namespace: RecordsNamespace, key: string): Promise<RecordsStub> {
  return namespace.get(namespace.idFromName(await sha256Hex(key)) as never);
}

/**
 * Records shared by every isolate in every data center: claims are atomic in the key's object, so one
 * delivery runs once and one Idempotency-Key executes once worldwide. Calls may reject; the app wraps
 * each in `guardStoreCall` with `storeOptions.timeout` and decides about failures itself.
 */
export function durableObjectRecordStore(namespace: RecordsNamespace): RecordStore {
  if (!isDurableObjectNamespace(namespace)) throw new TypeError('a Durable Object namespace binding is required');
  const object = (key: string) => recordsStubFor(namespace, key);
  return {
    async claim(key, value, leaseMs) {
      return (await object(key)).claim(key, value, leaseMs);
    },
    async complete(key, token, value, ttlMs) {
      return (await object(key)).complete(key, token, value, ttlMs);
    },
    async release(key, token) {
      await (await object(key)).release(key, token);
    },
    async put(key, value, ttlMs) {
      await (await object(key)).put(key, value, ttlMs);
    },
    async get(key) {
      return (await object(key)).get(key);
    },
  };
}
