import { describe, expect, it } from 'vitest';
import { executionNameFor } from '../../src/middleware/parse-input.js';

describe('executionNameFor', () => {
  const valid = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

  it('keeps a generated UUID as it is', () => {
    const id = '0b6f2c9e-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
    expect(executionNameFor(id)).toBe(`fg_${id}`);
  });

  it('replaces characters CloudFlow does not allow and stays within 128 characters', () => {
    expect(executionNameFor('req.abc:1')).toBe('fg_req_abc_1');
    const long = executionNameFor('a'.repeat(128));
    expect(long).toHaveLength(128);
    expect(long).toMatch(valid);
    expect(executionNameFor('x:'.repeat(64))).toMatch(valid);
  });
});
