/**
 * Exact decimal price math (SPEC §2 "Price"). Prices are decimal strings in token units; every
 * computation is on bigint numerators over powers of ten, never binary floats.
 */

export type PriceUnit = 'perRequest' | 'perMTok' | 'perHour';

export interface PriceTable {
  readonly perRequest?: string;
  readonly perMTok?: string;
  readonly perHour?: string;
  readonly perEpoch?: string;
}

/** A non-negative decimal string: digits, optionally a dot and more digits. */
export const DECIMAL_PATTERN = '^[0-9]{1,30}(\\.[0-9]{1,30})?$';
const DECIMAL = new RegExp(DECIMAL_PATTERN);

export class InvalidDecimalError extends Error {
  readonly reason = 'invalid_decimal';
  constructor(readonly value: string) {
    super(`"${value}" is not a non-negative decimal number (expected digits with an optional fraction, e.g. "0.001")`);
    this.name = 'InvalidDecimalError';
  }
}

/** A decimal as an exact fraction: `numerator / 10^scale`. */
interface Decimal {
  readonly numerator: bigint;
  readonly scale: number;
}

function parseDecimal(value: string): Decimal {
  if (!DECIMAL.test(value)) throw new InvalidDecimalError(value);
  const [whole, fraction = ''] = value.split('.');
  return { numerator: BigInt(whole + fraction), scale: fraction.length };
}

/** How a per-request price is derived from each unit: price / divisor (SPEC §2). */
const PER_REQUEST_DIVISOR: Record<PriceUnit, bigint> = {
  perRequest: 1n,
  perMTok: 1000n, // 1,000 tokens a request
  perHour: 12n, // 5 minutes a request
};

/** Units in the order that decides which price is charged. perEpoch alone is not chargeable. */
const UNIT_PRECEDENCE: readonly PriceUnit[] = ['perRequest', 'perMTok', 'perHour'];

export interface ChargeablePrice {
  readonly unit: PriceUnit;
  /** The price as written in the offer. */
  readonly raw: string;
}

/** The price the 402 charges for, or undefined when the table has no chargeable price. */
export function chargeablePrice(price: PriceTable): ChargeablePrice | undefined {
  for (const unit of UNIT_PRECEDENCE) {
    const raw = price[unit];
    if (raw !== undefined) return { unit, raw };
  }
  return undefined;
}

/**
 * Atomic amount per request = price / divisor × 10^decimals, rounded half up.
 * May return 0n; callers treat 0 as unpublishable (a route is never free by rounding).
 */
export function perRequestAtomicAmount(params: { price: ChargeablePrice; decimals: number }): bigint {
  const { numerator, scale } = parseDecimal(params.price.raw);
  const dividend = numerator * 10n ** BigInt(params.decimals);
  const divisor = 10n ** BigInt(scale) * PER_REQUEST_DIVISOR[params.price.unit];
  const quotient = dividend / divisor;
  const remainder = dividend % divisor;
  return remainder * 2n >= divisor ? quotient + 1n : quotient;
}

const UNIT_LABEL: Record<PriceUnit, string> = { perRequest: 'request', perMTok: 'MTok', perHour: 'hour' };

/** Display string, e.g. "0.001 USDC/request", "2 USDC/MTok". */
export function formatPrice(price: ChargeablePrice, symbol: string): string {
  return `${price.raw} ${symbol}/${UNIT_LABEL[price.unit]}`;
}

/** True when the string is a valid non-negative decimal. */
export function isDecimal(value: string): boolean {
  return DECIMAL.test(value);
}
