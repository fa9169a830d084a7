import { describe, expect, it } from 'vitest';
import { parseCacheControl } from '../../src/cache/directives.js';

describe('request Cache-Control', () => {
  it('reads no-store, no-cache and max-age, case-insensitively, among other directives', () => {
    expect(parseCacheControl(undefined)).toEqual({ noStore: false, noCache: false, maxAge: undefined });
    expect(parseCacheControl('No-Store')).toMatchObject({ noStore: true });
    expect(parseCacheControl('no-transform, NO-CACHE')).toMatchObject({ noCache: true, noStore: false });
    expect(parseCacheControl('max-age=30, must-revalidate')).toMatchObject({ maxAge: 30 });
    expect(parseCacheControl('max-age="45"')).toMatchObject({ maxAge: 45 });
  });

  it('keeps the smallest of repeated max-age values and ignores malformed ones', () => {
    expect(parseCacheControl('max-age=60, max-age=10').maxAge).toBe(10);
    expect(parseCacheControl('max-age=-1').maxAge).toBeUndefined();
    expect(parseCacheControl('max-age=abc').maxAge).toBeUndefined();
    expect(parseCacheControl('max-age').maxAge).toBeUndefined();
    expect(parseCacheControl('max-age=1.5').maxAge).toBeUndefined();
  });
});
