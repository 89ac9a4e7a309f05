import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, PatchError, type Json } from './patch.js';

describe('RFC 6902 JSON patch (the fake server applies it like kube-apiserver)', () => {
  const doc: Json = { a: { b: 1 }, list: [1, 2, 3], 'x/y': 'slash' };

  it('move, copy, append with "-" and ~1 escapes', () => {
    const out = applyJsonPatch(doc, [
      { op: 'move', from: '/a/b', path: '/moved' },
      { op: 'copy', from: '/list/0', path: '/list/-' },
      { op: 'replace', path: '/x~1y', value: 'escaped' },
    ]);
    expect(out).toEqual({ a: {}, list: [1, 2, 3, 1], 'x/y': 'escaped', moved: 1 });
    expect(doc).toEqual({ a: { b: 1 }, list: [1, 2, 3], 'x/y': 'slash' });
  });

  it('rejects missing paths, out-of-range indexes, unknown ops and non-arrays', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/list/7', value: 0 }])).toThrow(/out of range/);
    expect(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/a' }])).toThrow(/unknown JSON patch operation/);
    expect(() => applyJsonPatch(doc, [{ op: 'add', path: '/z' }])).toThrow(/needs a value/);
    expect(() => applyJsonPatch(doc, { op: 'add' })).toThrow(/must be an array/);
  });
});

describe('RFC 7386 merge patch', () => {
  it('merges objects, deletes with null, replaces arrays and scalars', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2], s: 'x' }, { a: { c: null, d: 3 }, l: [9], s: 'y' })).toEqual({ a: { b: 1, d: 3 }, l: [9], s: 'y' });
  });
});
