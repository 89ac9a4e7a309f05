import { z } from 'zod';
import { resolveNetwork } from './networks.js';
import type { ServiceOfferSpec } from './offer.js';
import { chargeablePrice, formatPrice, perRequestAtomicAmount, priceBasis, type ChargeablePrice } from './price.js';
import { formatAtomicAmount } from './token-amount.js';

/**
 * The resolved payment requirement of an offer: everything the 402 challenge, the local EIP-3009
 * check and the catalog need, in both x402 generations' terms. It travels in the snapshot as is.
 */
export const PaymentRequirement = z.object({
  scheme: z.literal('exact'),
  /** CAIP-2, the v2 network. */
  network: z.string().regex(/^eip155:[1-9][0-9]{0,18}$/),
  /** v1 network name; absent for chains without one (served to v2 clients only). */
  v1Network: z.string().min(1).max(64).optional(),
  chainId: z.number().int().positive(),
  /** Atomic units per request, a positive integer string. */
  amount: z.string().regex(/^[1-9][0-9]{0,77}$/),
  asset: z.object({
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    symbol: z.string().min(1).max(32).optional(),
    decimals: z.number().int().min(0).max(36),
    transferMethod: z.literal('eip3009'),
    eip712Domain: z.object({ name: z.string().min(1).max(128), version: z.string().min(1).max(32) }),
  }),
  payTo: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  maxTimeoutSeconds: z.number().int().min(1).max(86400),
  description: z.string().max(4096),
  mimeType: z.string().max(128),
});
export type PaymentRequirement = z.infer<typeof PaymentRequirement>;

export type PaymentResolution =
  | {
      readonly ok: true;
      /** The primary option (`spec.payment`): what every single-option consumer reads. */
      readonly requirement: PaymentRequirement;
      /** `spec.payment.alternatives` resolved, in the seller's order (empty when none). */
      readonly alternatives: readonly PaymentRequirement[];
      readonly price: ChargeablePrice;
      readonly display: string;
    }
  | { readonly ok: false; readonly reason: PaymentUnresolvedReason; readonly message: string };

export type PaymentUnresolvedReason = 'NoChargeablePrice' | 'UnknownNetwork' | 'IncompleteAsset' | 'FreeByRounding';

/** `registration.description`, else the generic line of SPEC §4.1. */
export function offerDescription(spec: Pick<ServiceOfferSpec, 'type' | 'registration'>): string {
  return spec.registration?.description ?? `x402 payment-gated ${spec.type} service`;
}

const DESCRIPTION_MAX = 4096;

/**
 * The 402's description: the offer's, and for a perMTok or perHour price the charge per request and
 * the assumption behind it, e.g. "… — 0.008 USDC per request (2 USDC per million tokens at 4,000
 * tokens per request)". The seller's text is shortened (ending "…") when both would not fit.
 */
export function chargeDescription(params: { description: string; price: ChargeablePrice; amount: string; decimals: number; symbol: string }): string {
  const basis = priceBasis(params.price, params.symbol);
  if (basis === undefined) return params.description;
  const perRequest = formatAtomicAmount({ amount: params.amount, decimals: params.decimals });
  const suffix = ` — ${perRequest} ${params.symbol} per request (${basis})`;
  const room = DESCRIPTION_MAX - suffix.length;
  const text = params.description.length <= room ? params.description : `${params.description.slice(0, room - 1)}…`;
  return `${text}${suffix}`;
}

/** One way to pay: a network, its asset as written (absent = the chain's USDC) and the recipient. */
export interface PaymentOptionSpec {
  readonly network: string;
  readonly asset?: AssetSpecInput | undefined;
  readonly payTo: string;
}
type AssetSpecInput = NonNullable<ServiceOfferSpec['payment']['asset']>;

export type OptionResolution =
  | { readonly ok: true; readonly requirement: PaymentRequirement; readonly symbol: string }
  | { readonly ok: false; readonly reason: Exclude<PaymentUnresolvedReason, 'NoChargeablePrice'>; readonly field: 'network' | 'asset'; readonly message: string };

/** Resolve one option at the offer's price (same token-unit price, converted at the option's decimals). */
export function resolvePaymentOption(spec: ServiceOfferSpec, option: PaymentOptionSpec, price: ChargeablePrice): OptionResolution {
  const network = resolveNetwork(option.network);
  if (!network) {
    return { ok: false, reason: 'UnknownNetwork', field: 'network', message: `network "${option.network}" is not known; use a CAIP-2 id with an explicit asset` };
  }
  const given = option.asset;
  const usdc = network.usdc;
  const isUsdc = usdc !== undefined && (!given || given.address.toLowerCase() === usdc.address.toLowerCase());
  const base = isUsdc ? usdc : undefined;
  const address = given?.address ?? base?.address;
  const decimals = given?.decimals ?? base?.decimals;
  const eip712Name = given?.eip712Name ?? base?.eip712Name;
  const eip712Version = given?.eip712Version ?? base?.eip712Version;
  const symbol = given?.symbol ?? base?.symbol;
  if (!address || decimals === undefined || !eip712Name || !eip712Version) {
    return given
      ? { ok: false, reason: 'IncompleteAsset', field: 'asset', message: 'asset needs address, decimals, eip712Name and eip712Version (only the chain\'s USDC has defaults)' }
      : { ok: false, reason: 'UnknownNetwork', field: 'asset', message: `network "${option.network}" has no default asset; set the asset` };
  }
  const amount = perRequestAtomicAmount({ price, decimals });
  if (amount === 0n) {
    return { ok: false, reason: 'FreeByRounding', field: 'asset', message: `price ${price.raw} (${price.unit}) rounds to 0 atomic units at ${decimals} decimals` };
  }
  const requirement: PaymentRequirement = {
    scheme: 'exact',
    network: network.caip2,
    ...(network.v1Name ? { v1Network: network.v1Name } : {}),
    chainId: network.chainId,
    amount: amount.toString(),
    asset: {
      address,
      ...(symbol ? { symbol } : {}),
      decimals,
      transferMethod: 'eip3009',
      eip712Domain: { name: eip712Name, version: eip712Version },
    },
    payTo: option.payTo,
    maxTimeoutSeconds: spec.payment.maxTimeoutSeconds,
    description: chargeDescription({ description: offerDescription(spec), price, amount: amount.toString(), decimals, symbol: symbol ?? 'units' }),
    mimeType: 'application/json',
  };
  return { ok: true, requirement, symbol: symbol ?? 'units' };
}

/** `spec.payment.alternatives[i]` with the primary's recipient where it names none. */
export function alternativeOptions(payment: ServiceOfferSpec['payment']): PaymentOptionSpec[] {
  return (payment.alternatives ?? []).map((alt) => ({ network: alt.network, asset: alt.asset, payTo: alt.payTo ?? payment.payTo }));
}

/** Two options are one when they name the same chain and token (the replay key's chain and asset). */
export function sameOption(a: PaymentRequirement, b: PaymentRequirement): boolean {
  return a.chainId === b.chainId && a.asset.address.toLowerCase() === b.asset.address.toLowerCase();
}

/**
 * Resolve an offer's payment block into its requirements (the primary, then each alternative), or
 * say why it cannot be charged. An alternative that does not resolve leaves the whole offer
 * unresolved, its field named: an option is never dropped silently (the rules refuse it first).
 */
export function resolvePayment(spec: ServiceOfferSpec): PaymentResolution {
  const { payment } = spec;
  const price = chargeablePrice(payment.price);
  if (!price) return { ok: false, reason: 'NoChargeablePrice', message: 'no perRequest, perMTok or perHour price' };
  const primary = resolvePaymentOption(spec, { network: payment.network, asset: payment.asset, payTo: payment.payTo }, price);
  if (!primary.ok) {
    // Today's wording for the primary, kept: its field is spec.payment.asset.
    const message = primary.reason === 'UnknownNetwork' && primary.field === 'asset' ? `network "${payment.network}" has no default asset; set spec.payment.asset` : primary.message;
    return { ok: false, reason: primary.reason, message };
  }
  const alternatives: PaymentRequirement[] = [];
  for (const [index, option] of alternativeOptions(payment).entries()) {
    const resolved = resolvePaymentOption(spec, option, price);
    if (!resolved.ok) return { ok: false, reason: resolved.reason, message: `spec.payment.alternatives[${index}].${resolved.field}: ${resolved.message}` };
    alternatives.push(resolved.requirement);
  }
  return { ok: true, requirement: primary.requirement, alternatives, price, display: formatPrice(price, primary.symbol) };
}
