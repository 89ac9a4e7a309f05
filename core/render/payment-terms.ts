import { priceBasis, type ChargeablePrice } from '../price.js';
import type { PaymentRequirement } from '../requirement.js';
import { formatAtomicAmount } from '../token-amount.js';

/**
 * One way to pay, in the words a person reads: the per-request amount in token units (exact, from
 * the atomic amount the 402 demands), the chain by name and CAIP-2 id, the token, the recipient.
 */
export interface PaymentTerms {
  /** Token units per request, e.g. "0.001". */
  readonly amount: string;
  /** Atomic units per request, as the 402 demands them. */
  readonly atomicAmount: string;
  readonly decimals: number;
  /** The token's symbol, else "units". */
  readonly symbol: string;
  readonly networkName: string;
  /** CAIP-2, e.g. "eip155:84532". */
  readonly network: string;
  readonly assetAddress: string;
  readonly payTo: string;
}

/** Chains people know by a name; any other chain is named by its v1 name or CAIP-2 id. */
const CHAIN_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'Ethereum'],
  [8453, 'Base'],
  [84532, 'Base Sepolia'],
]);

export function networkName(requirement: Pick<PaymentRequirement, 'chainId' | 'network' | 'v1Network'>): string {
  return CHAIN_NAMES.get(requirement.chainId) ?? requirement.v1Network ?? `Chain ${requirement.chainId}`;
}

export function paymentTerms(requirement: PaymentRequirement): PaymentTerms {
  const { asset } = requirement;
  return {
    amount: formatAtomicAmount({ amount: requirement.amount, decimals: asset.decimals }),
    atomicAmount: requirement.amount,
    decimals: asset.decimals,
    symbol: asset.symbol ?? 'units',
    networkName: networkName(requirement),
    network: requirement.network,
    assetAddress: asset.address,
    payTo: requirement.payTo,
  };
}

/**
 * What a perMTok or perHour offer's per-request charge assumes, in words with the listed price, e.g.
 * "2 USDC per million tokens at 4,000 tokens per request"; undefined for a perRequest price. The
 * symbol is the requirement's (the one the amount is in).
 */
export function listedPriceBasis(price: ChargeablePrice, requirement: Pick<PaymentRequirement, 'asset'>): string | undefined {
  return priceBasis(price, requirement.asset.symbol ?? 'units');
}
