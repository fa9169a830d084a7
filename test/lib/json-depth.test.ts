import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonDepthExceeds } from '../../src/lib/json-depth.js';

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

describe('jsonDepthExceeds', () => {
  it('agrees with the parsed depth for any JSON value, strings full of brackets, quotes and backslashes included', () => {
    const text = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\\\', 'a', ' ', '\\n') });
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), fc.array(tie('node')), fc.dictionary(text, tie('node'))),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, limit) => {
        const json = JSON.stringify(v);
        expect(jsonDepthExceeds(json, limit)).toBe(depthOf(v) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses hostile nesting without parsing', () => {
    expect(jsonDepthExceeds('['.repeat(100_000), 64)).toBe(true);
    expect(jsonDepthExceeds('{"a":"' + '['.repeat(100) + '"}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\\\"}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[["}', 1)).toBe(false);
  });
});
