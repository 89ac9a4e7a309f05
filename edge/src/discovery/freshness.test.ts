import { describe, expect, it } from 'vitest';
import { cacheControl, ifNoneMatchHits, maxAgeSeconds } from './freshness.js';

describe('maxAgeSeconds', () => {
  it('is 60 with no drain deadline ahead', () => {
    expect(maxAgeSeconds(0, undefined)).toBe(60);
    expect(cacheControl(0, undefined)).toBe('public, max-age=60');
  });

  it('never reaches past the next deadline, rounding down', () => {
    expect(maxAgeSeconds(0, 5_999)).toBe(5);
    expect(maxAgeSeconds(0, 600_000)).toBe(60);
    expect(maxAgeSeconds(1_000, 1_500)).toBe(0);
  });

  it('is 0, never negative, at or past the deadline', () => {
    expect(maxAgeSeconds(10_000, 10_000)).toBe(0);
    expect(maxAgeSeconds(10_000, 9_000)).toBe(0);
  });
});

describe('ifNoneMatchHits', () => {
  const etag = '"abc"';
  it('matches the exact tag, a tag in a list, a weak form of it and *', () => {
    expect(ifNoneMatchHits('"abc"', etag)).toBe(true);
    expect(ifNoneMatchHits('"x" , "abc"', etag)).toBe(true);
    expect(ifNoneMatchHits('W/"abc"', etag)).toBe(true);
    expect(ifNoneMatchHits('*', etag)).toBe(true);
  });

  it('does not match an absent header, another tag, an unquoted value or garbage', () => {
    expect(ifNoneMatchHits(undefined, etag)).toBe(false);
    expect(ifNoneMatchHits('"abd"', etag)).toBe(false);
    expect(ifNoneMatchHits('abc', etag)).toBe(false);
    expect(ifNoneMatchHits('', etag)).toBe(false);
  });
});
