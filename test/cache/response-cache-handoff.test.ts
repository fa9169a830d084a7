/**
 * Requests that join another request's run get its settled outcome handed over and never await its
 * promise: a run whose request was cancelled (on Workers its I/O dies with it, and never settles)
 * holds the others only until its lease, and then one of them runs for all.
 */
import { describe, expect, it } from 'vitest';
import { parseCacheControl } from '../../src/cache/directives.js';
import { createMemoryCacheStore } from '../../src/cache/stores/memory.js';
import { createResponseCache } from '../../src/cache/response-cache.js';
import type { CacheKey } from '../../src/cache/types.js';
import { GatewayError } from '../../src/errors.js';
import { manualClock } from '../../src/lib/clock.js';
import { manualTimer } from '../helpers/manual-timer.js';

const KEY: CacheKey = { flow: 'quote', hash: 'b'.repeat(64) };
const request = { key: KEY, ttlMs: 60_000, runTimeoutMs: 30_000, directives: parseCacheControl(undefined) };
/** runTimeoutMs plus the 5 s margin; the memory store has no cross-process lock. */
const LEASE = 35_000;

function setup() {
  const clock = manualClock();
  const timers = manualTimer();
  const store = createMemoryCacheStore({ maxSize: 1 << 20, maxEntrySize: 1 << 16, clock });
  const cache = createResponseCache({ store, clock, defer: () => {}, log: () => {}, lockWait: 10_000, timer: timers.timer });
  return { clock, timers, cache };
}

describe('response cache: joining another request’s run', () => {
  it('a run that never settles holds identical requests only until its lease; then one runs for all', async () => {
    const { clock, timers, cache } = setup();
    void cache.answer(request, () => new Promise(() => {})); // the cancelled request's run
    let runs = 0;
    const execute = async () => ({ body: `{"run":${++runs}}`, executionName: `fg_${runs}` });
    const followers = Promise.all([1, 2, 3].map(() => cache.answer(request, execute)));
    await timers.untilArmed(3);
    expect(timers.armed()).toEqual([LEASE, LEASE, LEASE]);
    clock.advance(LEASE);
    timers.fireAll();
    const answers = await followers;
    expect(runs).toBe(1);
    expect(answers.map((a) => a.outcome.body)).toEqual(['{"run":1}', '{"run":1}', '{"run":1}']);
    expect(answers.map((a) => a.headers['cache-status']).sort()).toEqual([
      'flowgate; fwd=miss; collapsed',
      'flowgate; fwd=miss; collapsed',
      'flowgate; fwd=miss; stored',
    ]);
  });

  it('followers get the leader’s result handed over, and its failure, without waiting out the lease', async () => {
    const { timers, cache } = setup();
    let finish!: (body: string) => void;
    const leader = cache.answer(request, () => new Promise((resolve) => (finish = (body) => resolve({ body, executionName: 'fg_leader' }))));
    const follower = cache.answer(request, async () => ({ body: 'never', executionName: 'fg_never' }));
    await timers.untilArmed(1);
    finish('{"by":"leader"}');
    expect((await follower).outcome.body).toBe('{"by":"leader"}');
    expect((await leader).headers['cache-status']).toBe('flowgate; fwd=miss; stored');
    expect(timers.armed()).toEqual([]);

    const failing = createResponseCache({
      store: createMemoryCacheStore({ maxSize: 1 << 20, maxEntrySize: 1 << 16, clock: manualClock() }),
      clock: manualClock(),
      defer: () => {},
      log: () => {},
      lockWait: 0,
      timer: timers.timer,
    });
    let fail!: () => void;
    const first = failing.answer(request, () => new Promise((_, reject) => (fail = () => reject(new GatewayError('UpstreamError', 502, 'upstream failed')))));
    const second = failing.answer(request, async () => ({ body: 'never', executionName: 'fg_never' }));
    await timers.untilArmed(1);
    fail();
    await expect(first).rejects.toMatchObject({ code: 'UpstreamError', headers: { 'cache-status': 'flowgate; fwd=miss' } });
    await expect(second).rejects.toMatchObject({ code: 'UpstreamError', headers: { 'cache-status': 'flowgate; fwd=miss; collapsed' } });
  });
});
