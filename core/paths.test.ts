import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchLongestPrefix, resolvePathConflicts, type PathClaim } from './paths.js';

describe('resolvePathConflicts', () => {
  it('lets the oldest claim keep a contested path', () => {
    const losers = resolvePathConflicts([
      { key: 'a/foo', path: '/services/foo', createdMs: 2000 },
      { key: 'b/foo', path: '/services/foo', createdMs: 1000 },
      { key: 'c/bar', path: '/services/bar', createdMs: 3000 },
    ]);
    expect([...losers]).toEqual([['a/foo', 'b/foo']]);
  });

  it('breaks a tie on age by the smaller key', () => {
    const losers = resolvePathConflicts([
      { key: 'z/foo', path: '/services/foo', createdMs: 1000 },
      { key: 'a/foo', path: '/services/foo', createdMs: 1000 },
    ]);
    expect([...losers]).toEqual([['z/foo', 'a/foo']]);
  });

  it('does not depend on input order', () => {
    const claim = fc.record({
      key: fc.constantFrom('a/x', 'b/x', 'c/y', 'd/y', 'e/z'),
      path: fc.constantFrom('/services/x', '/services/y'),
      createdMs: fc.integer({ min: 0, max: 5 }),
    });
    const claims = fc.uniqueArray(claim, { selector: (c: PathClaim) => c.key, maxLength: 5 });
    fc.assert(
      fc.property(claims.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))), ([list, shuffled]) => {
        const sorted = (m: Map<string, string>) => [...m].sort();
        expect(sorted(resolvePathConflicts(shuffled))).toEqual(sorted(resolvePathConflicts(list)));
      }),
    );
  });
});

describe('matchLongestPrefix', () => {
  const routes = new Map([
    ['/services/foo', 'foo'],
    ['/services/foo/v2', 'foo-v2'],
    ['/services/bar', 'bar'],
  ]);

  it('matches the path itself and anything below it', () => {
    expect(matchLongestPrefix(routes, '/services/foo')).toEqual({ path: '/services/foo', value: 'foo' });
    expect(matchLongestPrefix(routes, '/services/foo/')).toEqual({ path: '/services/foo', value: 'foo' });
    expect(matchLongestPrefix(routes, '/services/foo/v1/chat')).toEqual({ path: '/services/foo', value: 'foo' });
  });

  it('prefers the longest matching prefix', () => {
    expect(matchLongestPrefix(routes, '/services/foo/v2/chat')?.value).toBe('foo-v2');
    expect(matchLongestPrefix(routes, '/services/foo/v2')?.value).toBe('foo-v2');
  });

  it('never matches /services/foo for /services/foobar', () => {
    expect(matchLongestPrefix(routes, '/services/foobar')).toBeUndefined();
    expect(matchLongestPrefix(routes, '/services/foo-v2')).toBeUndefined();
    expect(matchLongestPrefix(routes, '/services')).toBeUndefined();
    expect(matchLongestPrefix(routes, '/')).toBeUndefined();
  });
});
