import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { perRequestAtomicAmount } from './price.js';
import { formatAtomicAmount, InvalidAtomicAmountError } from './token-amount.js';

describe('formatAtomicAmount', () => {
  it('writes atomic units as exact token units', () => {
    expect(formatAtomicAmount({ amount: '1000', decimals: 6 })).toBe('0.001');
    expect(formatAtomicAmount({ amount: '2000', decimals: 6 })).toBe('0.002');
    expect(formatAtomicAmount({ amount: '1', decimals: 6 })).toBe('0.000001');
    expect(formatAtomicAmount({ amount: '1000000', decimals: 6 })).toBe('1');
    expect(formatAtomicAmount({ amount: '1234567', decimals: 6 })).toBe('1.234567');
    expect(formatAtomicAmount({ amount: '0', decimals: 6 })).toBe('0');
    expect(formatAtomicAmount({ amount: '42', decimals: 0 })).toBe('42');
    expect(formatAtomicAmount({ amount: 1n, decimals: 18 })).toBe('0.000000000000000001');
  });

  it('stays exact beyond the 53 bits a float holds', () => {
    // 2^64 + 1 at 18 decimals: a float would print 18.446744073709552.
    expect(formatAtomicAmount({ amount: '18446744073709551617', decimals: 18 })).toBe('18.446744073709551617');
    expect(formatAtomicAmount({ amount: '9'.repeat(78), decimals: 36 })).toBe(`${'9'.repeat(42)}.${'9'.repeat(36)}`);
  });

  it('is the inverse of the per-request price math: the written amount charges the same atomic units', () => {
    fc.assert(
      // Within the price grammar (at most 30 digits each side of the point).
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n - 1n }), fc.integer({ min: 0, max: 30 }), (atomic, decimals) => {
        const raw = formatAtomicAmount({ amount: atomic, decimals });
        expect(perRequestAtomicAmount({ price: { raw, unit: 'perRequest' }, decimals })).toBe(atomic);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not an atomic amount', () => {
    for (const bad of ['', '-1', '1.5', '01', '1e6', ' 1']) {
      expect(() => formatAtomicAmount({ amount: bad, decimals: 6 }), bad).toThrow(InvalidAtomicAmountError);
    }
    expect(() => formatAtomicAmount({ amount: '1', decimals: -1 })).toThrow(RangeError);
  });
});
