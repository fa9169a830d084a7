import { describe, expect, it } from 'vitest';
import type { Decision, Policy } from '../../src/ratelimit/types.js';
import { durableObjectRateLimitStore, shardOf, type RateLimiterNamespace } from '../../src/ratelimit/stores/durable-object.workers.js';

const gcra = (key: string): Policy => ({ kind: 'gcra', name: 'caller', key, intervalMs: 100, burst: 2 });
const ALLOWED: Decision = { allowed: true, states: [] };

/** A namespace that records which object each call went to; the real one is exercised in workerd. */
function namespace(answer: (policies: Policy[]) => Promise<Decision>) {
  const shards: string[] = [];
  const ns: RateLimiterNamespace = {
    idFromName: (name) => name,
    get: (id) => {
      shards.push(id as string);
      return { check: (policies) => answer(policies) };
    },
  };
  return { ns, shards };
}

describe('durableObjectRateLimitStore', () => {
  it('sends every policy of a request to the object named by the caller hash tag', async () => {
    const { ns, shards } = namespace(async () => ALLOWED);
    const store = durableObjectRateLimitStore(ns, { timeoutMs: 100 });
    const result = await store.check([gcra('fg:rl:{ip:203.0.113.7}:caller'), gcra('fg:rl:{ip:203.0.113.7}:flow:hello')], 1);
    expect(result).toEqual({ ok: true, value: ALLOWED });
    expect(shards).toEqual(['{ip:203.0.113.7}']);
    expect(store.kind).toBe('durable-object');
  });

  it('falls back to the first key when the keys share no tag', () => {
    expect(shardOf([gcra('a:{x}'), gcra('b:{y}')])).toBe('a:{x}');
    expect(shardOf([gcra('plain')])).toBe('plain');
  });

  it('turns an unreachable or slow object into a store failure value, never a throw', async () => {
    const failing = durableObjectRateLimitStore(namespace(() => Promise.reject(new Error('object overloaded'))).ns, { timeoutMs: 100 });
    expect(await failing.check([gcra('{a}')], 1)).toEqual({ ok: false, error: 'unavailable', detail: 'object overloaded' });
    const hanging = durableObjectRateLimitStore(namespace(() => new Promise<Decision>(() => {})).ns, { timeoutMs: 20 });
    expect(await hanging.check([gcra('{a}')], 1)).toMatchObject({ ok: false, error: 'timeout' });
  });

  it('refuses bad options when built', () => {
    expect(() => durableObjectRateLimitStore(undefined as never, { timeoutMs: 1 })).toThrow(/namespace/);
    expect(() => durableObjectRateLimitStore(namespace(async () => ALLOWED).ns, { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
