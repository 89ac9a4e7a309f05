import type { PaymentRequirement } from '../requirement.js';
import { encodeBase64Json } from './base64-json.js';
import { v1Requirement, v2Requirement, type V1Requirement, type V2Requirement } from './challenge.js';
import type { PaymentPayload } from './payment-header.js';

/** What the gate sends the facilitator and what it hands the buyer after `/settle`. */

export interface FacilitatorRequest {
  x402Version: 1 | 2;
  paymentPayload: PaymentPayload;
  /** Always the gate's own requirement, in the payment's generation's shape (never the buyer's copy). */
  paymentRequirements: V1Requirement | V2Requirement;
}

export class NoV1RequirementError extends Error {
  readonly reason = 'no_v1_network';
  constructor(network: string) {
    super(`${network} has no x402 v1 network name; it is served to v2 clients only`);
    this.name = 'NoV1RequirementError';
  }
}

export function facilitatorRequest(payment: PaymentPayload, requirement: PaymentRequirement, resourceUrl: string): FacilitatorRequest {
  if (payment.x402Version === 2) {
    return { x402Version: 2, paymentPayload: payment, paymentRequirements: v2Requirement(requirement) };
  }
  const v1 = v1Requirement(requirement, resourceUrl);
  if (!v1) throw new NoV1RequirementError(requirement.network);
  return { x402Version: 1, paymentPayload: payment, paymentRequirements: v1 };
}

export interface Receipt {
  success: boolean;
  transaction: string;
  /** The network as the payment's generation names it (v1 name or CAIP-2). */
  network: string;
  payer: string;
  errorReason?: string;
}

export const RECEIPT_HEADER_V1 = 'X-PAYMENT-RESPONSE';
export const RECEIPT_HEADER_V2 = 'PAYMENT-RESPONSE';

export function receiptHeaderName(x402Version: 1 | 2): string {
  return x402Version === 1 ? RECEIPT_HEADER_V1 : RECEIPT_HEADER_V2;
}

export function receiptNetwork(x402Version: 1 | 2, requirement: PaymentRequirement): string {
  return x402Version === 1 && requirement.v1Network !== undefined ? requirement.v1Network : requirement.network;
}

export function encodeReceipt(receipt: Receipt): string {
  return encodeBase64Json(receipt);
}

/**
 * The replay-guard key of an authorization: (chainId, asset, from, nonce), lower-cased. It names
 * the signed authorization, never the header bytes, so a v2 payment re-wrapped as v1 is the same key.
 */
export function authorizationKey(requirement: PaymentRequirement, payment: PaymentPayload): string {
  const a = payment.payload.authorization;
  return [String(requirement.chainId), requirement.asset.address, a.from, a.nonce].join(':').toLowerCase();
}
