import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeablePrice, formatPrice, InvalidDecimalError, isDecimal, perRequestAtomicAmount, type PriceUnit } from './price.js';
import { resolvePayment } from './requirement.js';
import { ServiceOfferSpec } from './offer.js';

const DIVISOR: Record<PriceUnit, bigint> = { perRequest: 1n, perMTok: 1000n, perHour: 12n };

/** Independent reference: floor(x + 1/2) for x = n/d is floor((2n + d) / 2d). */
function referenceAtomic(raw: string, unit: PriceUnit, decimals: number): bigint {
  const [whole = '0', fraction = ''] = raw.split('.');
  const n = BigInt(`${whole}${fraction}`) * 10n ** BigInt(decimals);
  const d = 10n ** BigInt(fraction.length) * DIVISOR[unit];
  return (2n * n + d) / (2n * d);
}

const decimalString = fc
  .tuple(fc.stringMatching(/^[0-9]{1,30}$/), fc.option(fc.stringMatching(/^[0-9]{1,30}$/), { nil: undefined }))
  .map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`));
const unit = fc.constantFrom<PriceUnit>('perRequest', 'perMTok', 'perHour');

describe('perRequestAtomicAmount', () => {
  it('equals the exact rational rounded half up, for random decimals and decimals counts', () => {
    fc.assert(
      fc.property(decimalString, unit, fc.integer({ min: 0, max: 36 }), (raw, u, decimals) => {
        expect(perRequestAtomicAmount({ price: { raw, unit: u }, decimals })).toBe(referenceAtomic(raw, u, decimals));
      }),
      { numRuns: 2000 },
    );
  });

  it('rounds exactly where binary floats would not', () => {
    // In floats 1.0000025 * 1e6 is 1000002.4999999999; exactly it is a half and rounds up.
    expect(Math.round(1.0000025 * 1e6)).toBe(1000002);
    expect(perRequestAtomicAmount({ price: { raw: '1.0000025', unit: 'perRequest' }, decimals: 6 })).toBe(1000003n);
    expect(perRequestAtomicAmount({ price: { raw: '1.005', unit: 'perRequest' }, decimals: 2 })).toBe(101n);
    expect(perRequestAtomicAmount({ price: { raw: '0.0000004', unit: 'perRequest' }, decimals: 6 })).toBe(0n);
    expect(perRequestAtomicAmount({ price: { raw: '0.0000005', unit: 'perRequest' }, decimals: 6 })).toBe(1n);
  });

  it('derives per-request amounts from perMTok (1,000 tokens) and perHour (5 minutes)', () => {
    expect(perRequestAtomicAmount({ price: { raw: '2', unit: 'perMTok' }, decimals: 6 })).toBe(2000n);
    expect(perRequestAtomicAmount({ price: { raw: '1.2', unit: 'perHour' }, decimals: 6 })).toBe(100000n);
    // 1/12 USDC = 83333.33… atomic units → 83333.
    expect(perRequestAtomicAmount({ price: { raw: '1', unit: 'perHour' }, decimals: 6 })).toBe(83333n);
  });

  it('keeps full precision for 30-digit prices at 36 decimals', () => {
    const raw = '123456789012345678901234567890.123456789012345678901234567890';
    expect(perRequestAtomicAmount({ price: { raw, unit: 'perRequest' }, decimals: 36 })).toBe(
      123456789012345678901234567890123456789012345678901234567890000000n,
    );
  });

  it('refuses a string that is not a non-negative decimal', () => {
    for (const raw of ['-1', '1e-6', '0x10', '.5', '1.', '', '1,5', ' 1']) {
      expect(() => perRequestAtomicAmount({ price: { raw, unit: 'perRequest' }, decimals: 6 })).toThrow(InvalidDecimalError);
      expect(isDecimal(raw)).toBe(false);
    }
  });
});

describe('chargeablePrice', () => {
  it('prefers perRequest over perMTok over perHour', () => {
    expect(chargeablePrice({ perRequest: '1', perMTok: '2', perHour: '3' })).toEqual({ unit: 'perRequest', raw: '1' });
    expect(chargeablePrice({ perMTok: '2', perHour: '3', perEpoch: '4' })).toEqual({ unit: 'perMTok', raw: '2', tokensPerRequest: 1000 });
    expect(chargeablePrice({ perHour: '3' })).toEqual({ unit: 'perHour', raw: '3', minutesPerRequest: 5 });
  });

  it('does not charge perEpoch alone', () => {
    expect(chargeablePrice({ perEpoch: '4' })).toBeUndefined();
    expect(chargeablePrice({})).toBeUndefined();
  });
});

describe('price display and resolution', () => {
  it('formats the price as written with its unit', () => {
    expect(formatPrice({ unit: 'perRequest', raw: '0.001' }, 'USDC')).toBe('0.001 USDC/request');
    expect(formatPrice({ unit: 'perMTok', raw: '2' }, 'USDC')).toBe('2 USDC/MTok');
    expect(formatPrice({ unit: 'perHour', raw: '1.50' }, 'USDC')).toBe('1.50 USDC/hour');
  });

  it('makes a price that rounds to 0 atomic units unpublishable (FreeByRounding)', () => {
    const spec = ServiceOfferSpec.parse({
      upstream: { service: 'svc' },
      payment: { network: 'base', payTo: `0x${'1'.repeat(40)}`, price: { perRequest: '0.0000004' } },
    });
    expect(resolvePayment(spec)).toMatchObject({ ok: false, reason: 'FreeByRounding' });
  });
});
