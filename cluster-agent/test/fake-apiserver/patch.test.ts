import { describe, expect, it } from 'vitest';
import { applyMergePatch } from './patch.js';

describe('RFC 7386 merge patch (the one patch type the fake applies)', () => {
  it('merges objects, deletes with null, replaces arrays and scalars, leaves its input alone', () => {
    const target = { a: { b: 1, c: 2 }, l: [1, 2], s: 'x' };
    expect(applyMergePatch(target, { a: { c: null, d: 3 }, l: [9], s: 'y' })).toEqual({ a: { b: 1, d: 3 }, l: [9], s: 'y' });
    expect(target).toEqual({ a: { b: 1, c: 2 }, l: [1, 2], s: 'x' });
  });
});
