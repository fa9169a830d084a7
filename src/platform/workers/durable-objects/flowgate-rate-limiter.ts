import { DurableObject } from 'cloudflare:workers';
import { evaluate, type StoredCounter } from '../../../ratelimit/gcra.js';
import type { Decision, Policy } from '../../../ratelimit/types.js';

/**
 * Counters expire on the gateway's clock (the `now` it sends) but are deleted on the object's own
 * clock; the grace keeps a counter until well after any gateway could still count it, the way the
 * Redis store adds slack to its TTLs. An expired counter that lingers is harmless: it reads as empty.
 */
const DELETE_GRACE_MS = 60_000;

/** A GCRA theoretical arrival time or a fixed-window count, the time it was written at, and its expiry. */
interface Counter extends StoredCounter {
  expiresAt: number;
}

/**
 * Exact rate-limit counters for ONE caller: the Worker addresses an object per caller id
 * (`idFromName`), so load spreads over many objects instead of one global bottleneck. A Durable
 * Object handles one event at a time and keeps its input gate closed across storage calls, so the
 * read-decide-write below is atomic even when a caller's requests arrive from many isolates. The
 * rules are the shared ones (ratelimit/gcra.ts), so answers match the memory and Redis stores.
 */
export class FlowgateRateLimiter extends DurableObject {
  /** All policies of one request are admitted and spent together, or none is spent. Time comes from the gateway, as with every store. */
  async check(policies: Policy[], now: number): Promise<Decision> {
    checkRequest(policies, now);
    const storage = this.ctx.storage;
    const stored = await storage.get<Counter>(policies.map((p) => p.key));
    const values = policies.map((p) => {
      const counter = stored.get(p.key);
      return counter && counter.expiresAt > now ? counter : undefined;
    });
    const { decision, at, writes } = evaluate(policies, values, now);
    if (writes) {
      const entries: Record<string, Counter> = {};
      writes.forEach((write, i) => (entries[policies[i]!.key] = { value: write.value, at, expiresAt: at + write.ttlMs }));
      await storage.put(entries);
      await this.cleanUpAfter(Math.max(...Object.values(entries).map((c) => c.expiresAt)));
    }
    return decision;
  }

  /** Deletes counters that have expired, so idle callers leave no storage behind. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const counters = await this.ctx.storage.list<Counter>();
    const done = (c: Counter) => c.expiresAt + DELETE_GRACE_MS <= now;
    const expired = [...counters].filter(([, c]) => done(c)).map(([key]) => key);
    if (expired.length) await this.ctx.storage.delete(expired);
    const live = [...counters.values()].filter((c) => !done(c));
    if (live.length) await this.ctx.storage.setAlarm(Math.max(...live.map((c) => c.expiresAt)) + DELETE_GRACE_MS);
  }

  private async cleanUpAfter(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current < at + DELETE_GRACE_MS) await this.ctx.storage.setAlarm(at + DELETE_GRACE_MS);
  }
}

const positive = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;

/** The object is reachable by anything holding the binding; malformed input is refused, never counted. */
function checkRequest(policies: unknown, now: unknown): asserts policies is Policy[] {
  if (!Array.isArray(policies) || policies.length === 0) throw new TypeError('check needs at least one policy');
  if (!positive(now)) throw new TypeError('now must be epoch milliseconds');
  for (const p of policies as Policy[]) {
    if (typeof p?.key !== 'string' || p.key === '') throw new TypeError('policy.key must be a non-empty string');
    if (p.kind === 'gcra') {
      if (!positive(p.intervalMs) || !positive(p.burst)) throw new TypeError('gcra policies need positive intervalMs and burst');
    } else if (p.kind === 'window') {
      if (!positive(p.limit) || !positive(p.windowMs) || !positive(p.windowEnd))
        throw new TypeError('window policies need positive limit, windowMs and windowEnd');
    } else {
      throw new TypeError('policy.kind must be "gcra" or "window"');
    }
  }
}
