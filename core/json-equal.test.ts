import { describe, expect, it } from 'vitest';
import { jsonEqual } from './json-equal.js';

describe('jsonEqual', () => {
  it('equals what JSON.stringify would call equal, ignoring key order and undefined keys', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, gone: undefined })).toBe(true);
    expect(jsonEqual(null, null)).toBe(true);
  });

  it('tells apart values, types, lengths and missing keys', () => {
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual({ a: null }, { a: undefined })).toBe(false);
    expect(jsonEqual({ a: { b: [true] } }, { a: { b: [false] } })).toBe(false);
  });

  it('compares lists element by element, in order', () => {
    expect(jsonEqual([{ k: 1 }, { k: 2 }], [{ k: 1 }, { k: 2 }])).toBe(true);
    expect(jsonEqual([{ k: 1 }, { k: 2 }], [{ k: 2 }, { k: 1 }])).toBe(false);
    expect(jsonEqual([], [])).toBe(true);
  });
});
