import { describe, expect, it } from 'vitest';
import { timingSafeEqual } from '../../src/lib/constant-time.js';

/** Counts how many bytes of `bytes` the comparison reads. */
function counted(bytes: Uint8Array): { view: Uint8Array; reads: () => number } {
  let reads = 0;
  const view = new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key);
    },
  });
  return { view, reads: () => reads };
}

describe('timingSafeEqual', () => {
  it('tells equal from different byte strings', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(), new Uint8Array())).toBe(true);
  });

  it('reads every byte even when the first one differs', () => {
    const expected = new Uint8Array(32).fill(7);
    const forged = counted(new Uint8Array(32).fill(7).fill(0, 0, 1));
    expect(timingSafeEqual(expected, forged.view)).toBe(false);
    expect(forged.reads()).toBe(32);
  });
});
