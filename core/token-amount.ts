/**
 * An atomic token amount written in token units (`1000` at 6 decimals → `"0.001"`): the inverse of
 * `perRequestAtomicAmount` for a per-request price, exact on bigint, never a binary float.
 */
export class InvalidAtomicAmountError extends Error {
  readonly reason = 'invalid_atomic_amount';
  constructor(readonly value: string) {
    super(`"${value}" is not a non-negative integer amount of atomic units`);
    this.name = 'InvalidAtomicAmountError';
  }
}

const ATOMIC = /^(0|[1-9][0-9]*)$/;

/** The shortest exact decimal: no exponent, no trailing fractional zeros, `0` for nothing. */
export function formatAtomicAmount(params: { amount: string | bigint; decimals: number }): string {
  const { amount, decimals } = params;
  const digits = typeof amount === 'bigint' ? amount.toString() : amount;
  if (!ATOMIC.test(digits)) throw new InvalidAtomicAmountError(digits);
  if (!Number.isInteger(decimals) || decimals < 0) throw new RangeError(`decimals must be a non-negative integer, got ${decimals}`);
  if (decimals === 0) return digits;
  const padded = digits.padStart(decimals + 1, '0');
  const whole = padded.slice(0, -decimals);
  const fraction = padded.slice(-decimals).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
