import { DurableObject } from 'cloudflare:workers';
import { tokenOf } from '../../../records/types.js';

interface StoredRecord {
  value: string;
  /** Epoch ms on the object's clock; records without an end (purge generations) are never deleted. */
  expiresAt: number | null;
}

/**
 * Delivery, Idempotency-Key and `ack` execution records, plus the response cache's purge generations.
 * The Worker addresses one object per record key (`idFromName` of its SHA-256), so there is no hot global
 * object. An object handles one event at a time and keeps its input gate closed across storage calls,
 * so each read-decide-write below is atomic however many isolates race for the same key. Expiry runs
 * on the object's own clock, lazily on read, and an alarm deletes what has expired.
 */
export class FlowgateRecords extends DurableObject {
  /** Stores `value` for `leaseMs` when the key is free; otherwise returns what is there, untouched. */
  async claim(key: string, value: string, leaseMs: number): Promise<string | undefined> {
    checkKey(key);
    checkValue(value, leaseMs);
    const existing = await this.live(key);
    if (existing) return existing.value;
    await this.write(key, value, leaseMs);
    return undefined;
  }

  /** Replaces the claim holding `token` (or an expired one) with the final value. */
  async complete(key: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkValue(value, ttlMs);
    const existing = await this.live(key);
    if (existing && tokenOf(existing.value) !== token) return false;
    await this.write(key, value, ttlMs);
    return true;
  }

  async release(key: string, token: string): Promise<void> {
    checkKey(key);
    const existing = await this.live(key);
    if (existing && tokenOf(existing.value) === token) await this.ctx.storage.delete(key);
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    checkKey(key);
    checkValue(value, ttlMs);
    await this.write(key, value, ttlMs);
  }

  async get(key: string): Promise<string | undefined> {
    checkKey(key);
    return (await this.live(key))?.value;
  }

  /**
   * A number that only increases: max(stored + 1, floor), kept without expiry. The response cache keys
   * its entries on it, so a purge can never be undone by anything expiring or being evicted.
   */
  async advance(key: string, floor: number): Promise<number> {
    checkKey(key);
    if (!Number.isSafeInteger(floor) || floor < 0) throw new TypeError('floor must be a non-negative integer');
    const current = Number((await this.ctx.storage.get<StoredRecord>(key))?.value ?? 0);
    const next = Math.max(floor, (Number.isSafeInteger(current) ? current : 0) + 1);
    await this.ctx.storage.put<StoredRecord>(key, { value: String(next), expiresAt: null });
    return next;
  }

  /** Deletes expired records so finished deliveries leave no storage behind. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const records = await this.ctx.storage.list<StoredRecord>();
    const expired = [...records].filter(([, r]) => r.expiresAt !== null && r.expiresAt <= now).map(([key]) => key);
    if (expired.length) await this.ctx.storage.delete(expired);
    const next = [...records.values()].flatMap((r) => (r.expiresAt !== null && r.expiresAt > now ? [r.expiresAt] : []));
    if (next.length) await this.ctx.storage.setAlarm(Math.min(...next));
  }

  private async live(key: string): Promise<StoredRecord | undefined> {
    const record = await this.ctx.storage.get<StoredRecord>(key);
    if (!record) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) {
      await this.ctx.storage.delete(key);
      return undefined;
    }
    return record;
  }

  private async write(key: string, value: string, ttlMs: number): Promise<void> {
    const expiresAt = Date.now() + Math.ceil(ttlMs);
    await this.ctx.storage.put<StoredRecord>(key, { value, expiresAt });
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > expiresAt) await this.ctx.storage.setAlarm(expiresAt);
  }
}

/** The object is reachable by anything holding the binding; malformed input is refused, never stored. */
function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || key.length > 1024) throw new TypeError('key must be a non-empty string of at most 1024 characters');
}

function checkValue(value: unknown, ttlMs: unknown): void {
  if (typeof value !== 'string') throw new TypeError('value must be a string');
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError('ttlMs must be a positive number of milliseconds');
}
