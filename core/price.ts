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
  /** perMTok only: the tokens one request is assumed to use (default 1,000). */
  readonly tokensPerRequest?: number;
  /** perHour only: the minutes one request is assumed to take (default 5). */
  readonly minutesPerRequest?: number;
}

/** Today's assumptions, kept as the defaults so existing manifests keep their amounts. */
export const DEFAULT_TOKENS_PER_REQUEST = 1000;
export const DEFAULT_MINUTES_PER_REQUEST = 5;
/** Bounds of the assumptions: a whole number from 1 to a million tokens, 1 to 1,440 minutes (a day). */
export const MAX_TOKENS_PER_REQUEST = 1_000_000;
export const MAX_MINUTES_PER_REQUEST = 1440;

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

/**
 * How much of one unit a request is assumed to use, as a fraction (SPEC §2): perMTok charges
 * tokensPerRequest / 1,000,000 of the price, perHour minutesPerRequest / 60.
 */
function perRequestShare(price: ChargeablePrice): { readonly numerator: bigint; readonly denominator: bigint } {
  switch (price.unit) {
    case 'perRequest':
      return { numerator: 1n, denominator: 1n };
    case 'perMTok':
      return { numerator: BigInt(price.tokensPerRequest ?? DEFAULT_TOKENS_PER_REQUEST), denominator: 1_000_000n };
    case 'perHour':
      return { numerator: BigInt(price.minutesPerRequest ?? DEFAULT_MINUTES_PER_REQUEST), denominator: 60n };
  }
}

/** Units in the order that decides which price is charged. perEpoch alone is not chargeable. */
const UNIT_PRECEDENCE: readonly PriceUnit[] = ['perRequest', 'perMTok', 'perHour'];

export interface ChargeablePrice {
  readonly unit: PriceUnit;
  /** The price as written in the offer. */
  readonly raw: string;
  /** perMTok only: the tokens a request is assumed to use (absent = the default). */
  readonly tokensPerRequest?: number;
  /** perHour only: the minutes a request is assumed to take (absent = the default). */
  readonly minutesPerRequest?: number;
}

/** The price the 402 charges for, or undefined when the table has no chargeable price. */
export function chargeablePrice(price: PriceTable): ChargeablePrice | undefined {
  for (const unit of UNIT_PRECEDENCE) {
    const raw = price[unit];
    if (raw === undefined) continue;
    if (unit === 'perMTok') return { unit, raw, tokensPerRequest: price.tokensPerRequest ?? DEFAULT_TOKENS_PER_REQUEST };
    if (unit === 'perHour') return { unit, raw, minutesPerRequest: price.minutesPerRequest ?? DEFAULT_MINUTES_PER_REQUEST };
    return { unit, raw };
  }
  return undefined;
}

/**
 * Atomic amount per request = price × share × 10^decimals (share: 1 per request, tokensPerRequest /
 * 1,000,000 per MTok, minutesPerRequest / 60 per hour), rounded half up: a fraction of an atomic unit
 * of at least one half rounds up, less rounds down. May return 0n; callers refuse 0 as unpublishable
 * (a route is never free by rounding).
 */
export function perRequestAtomicAmount(params: { price: ChargeablePrice; decimals: number }): bigint {
  const { numerator, scale } = parseDecimal(params.price.raw);
  const share = perRequestShare(params.price);
  const dividend = numerator * 10n ** BigInt(params.decimals) * share.numerator;
  const divisor = 10n ** BigInt(scale) * share.denominator;
  const quotient = dividend / divisor;
  const remainder = dividend % divisor;
  return remainder * 2n >= divisor ? quotient + 1n : quotient;
}

const UNIT_LABEL: Record<PriceUnit, string> = { perRequest: 'request', perMTok: 'MTok', perHour: 'hour' };

/** Display string, e.g. "0.001 USDC/request", "2 USDC/MTok". */
export function formatPrice(price: ChargeablePrice, symbol: string): string {
  return `${price.raw} ${symbol}/${UNIT_LABEL[price.unit]}`;
}

/** 4000 → "4,000": whole numbers grouped by thousands, the same in every locale. */
export function groupThousands(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The assumption behind a per-request charge, in words, e.g. "2 USDC per million tokens at 4,000
 * tokens per request" or "0.5 USDC per hour at 5 minutes per request"; undefined for perRequest.
 */
export function priceBasis(price: ChargeablePrice, symbol: string): string | undefined {
  if (price.unit === 'perMTok') {
    const tokens = price.tokensPerRequest ?? DEFAULT_TOKENS_PER_REQUEST;
    return `${price.raw} ${symbol} per million tokens at ${groupThousands(tokens)} ${tokens === 1 ? 'token' : 'tokens'} per request`;
  }
  if (price.unit === 'perHour') {
    const minutes = price.minutesPerRequest ?? DEFAULT_MINUTES_PER_REQUEST;
    return `${price.raw} ${symbol} per hour at ${groupThousands(minutes)} ${minutes === 1 ? 'minute' : 'minutes'} per request`;
  }
  return undefined;
}

/** True when the string is a valid non-negative decimal. */
export function isDecimal(value: string): boolean {
  return DECIMAL.test(value);
}
