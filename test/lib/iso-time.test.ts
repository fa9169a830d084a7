import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoSeconds, isoTime } from '../../src/lib/iso-time.js';

describe('isoTime', () => {
  it('equals Date#toISOString for any instant, in any order of calls', () => {
    // Up to year 9999 and past it (extended years), before 1970, and whole and fractional milliseconds.
    const instant = fc.oneof(fc.integer({ min: -62_000_000_000_000, max: 300_000_000_000_000 }), fc.double({ min: 0, max: 4_102_444_800_000, noNaN: true }));
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        for (const ms of instants) expect(isoTime(ms)).toBe(new Date(Math.floor(ms)).toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it('gives each millisecond of a shared second its own stamp', () => {
    const base = Date.UTC(2026, 10, 26, 1, 2, 3);
    expect(isoTime(base)).toBe('2026-11-26T01:02:03.000Z');
    expect(isoTime(base + 7)).toBe('2026-11-26T01:02:03.007Z');
    expect(isoTime(base + 45)).toBe('2026-11-26T01:02:03.045Z');
    expect(isoTime(base + 999)).toBe('2026-11-26T01:02:03.999Z');
    expect(isoTime(base + 1000)).toBe('2026-11-26T01:02:04.000Z');
  });
});

describe('isoSeconds', () => {
  it('equals Date#toISOString without the milliseconds, whatever isoTime was asked in between', () => {
    const instant = fc.integer({ min: -62_000_000_000_000, max: 300_000_000_000_000 });
    fc.assert(
      fc.property(fc.array(fc.tuple(instant, fc.boolean()), { minLength: 1, maxLength: 20 }), (calls) => {
        for (const [ms, seconds] of calls) {
          const iso = new Date(ms).toISOString();
          if (seconds) expect(isoSeconds(ms)).toBe(iso.replace(/\.\d{3}Z$/, 'Z'));
          else expect(isoTime(ms)).toBe(iso);
        }
      }),
      { numRuns: 500 },
    );
  });
});
