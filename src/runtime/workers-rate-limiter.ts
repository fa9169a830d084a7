import { DurableObject } from 'cloudflare:workers';
import { checkPolicy, gcra, type GcraDecision, type GcraPolicy } from './workers-gcra.js';

export type { GcraDecision, GcraPolicy };

const TAT_PREFIX = 'tat:';

/**
 * Exact rate-limit counters for ONE caller: the Worker addresses an object per caller key
 * (`idFromName`), so load spreads over many objects instead of one global bottleneck. A Durable
 * Object handles one event at a time and holds its input gate across storage calls, so the
 * read-compute-write below is atomic even when a caller's requests arrive from many isolates.
 * An alarm deletes counters once they are full again, so idle callers leave no storage behind.
 */
export class FlowgateRateLimiter extends DurableObject {
  /** Spends `cost` units of each policy, all or nothing: a request refused by one policy spends from none. */
  async take(policies: GcraPolicy[]): Promise<GcraDecision[]> {
    if (!Array.isArray(policies) || policies.length === 0) throw new TypeError('take needs at least one policy');
    policies.forEach(checkPolicy);
    const storage = this.ctx.storage;
    const keys = policies.map((p) => TAT_PREFIX + p.key);
    const stored = await storage.get<number>(keys);
    const now = Date.now();
    const results = policies.map((policy, i) => gcra(stored.get(keys[i]!), now, policy));
    const decisions = results.map((r) => r.decision);
    if (decisions.some((d) => !d.allowed)) {
      // Nothing was spent, so the policies that would have allowed it report their unspent state.
      return policies.map((policy, i) => (decisions[i]!.allowed ? gcra(stored.get(keys[i]!), now, { ...policy, cost: 0 }).decision : decisions[i]!));
    }
    const updates: Record<string, number> = {};
    results.forEach((r, i) => (updates[keys[i]!] = r.tat!));
    await storage.put(updates);
    await this.scheduleCleanup(Math.max(...Object.values(updates)));
    return decisions;
  }

  /** Current state without spending: for `RateLimit` headers on answers that did not count. */
  async peek(policies: GcraPolicy[]): Promise<GcraDecision[]> {
    if (!Array.isArray(policies) || policies.length === 0) throw new TypeError('peek needs at least one policy');
    policies.forEach(checkPolicy);
    const keys = policies.map((p) => TAT_PREFIX + p.key);
    const stored = await this.ctx.storage.get<number>(keys);
    const now = Date.now();
    return policies.map((policy, i) => gcra(stored.get(keys[i]!), now, { ...policy, cost: 0 }).decision);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const counters = await this.ctx.storage.list<number>({ prefix: TAT_PREFIX });
    const expired = [...counters].filter(([, tat]) => tat <= now).map(([key]) => key);
    if (expired.length) await this.ctx.storage.delete(expired);
    const live = [...counters.values()].filter((tat) => tat > now);
    if (live.length) await this.ctx.storage.setAlarm(Math.max(...live));
  }

  private async scheduleCleanup(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current < at) await this.ctx.storage.setAlarm(at);
  }
}
