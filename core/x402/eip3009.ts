import { getAddress, isAddressEqual, verifyTypedData, type Hex } from 'viem';
import type { PaymentRequirement } from '../requirement.js';
import type { ExactEvmPayload } from './payment-header.js';
import { X402_REASONS, type LocalRejectReason } from './reasons.js';

/**
 * Local EIP-3009 `TransferWithAuthorization` checks (SPEC §5 step 3), no network. The domain is
 * the requirement's token: {name, version, chainId, verifyingContract = asset}.
 */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

/** x402 facilitators refuse an authorization that expires within 6 s; so do we. */
export const MIN_VALIDITY_SECONDS = 6n;
const EOA_SIGNATURE_BYTES = 65;

export type AuthorizationCheck = { ok: true; payer: string } | { ok: false; reason: LocalRejectReason };

export interface AuthorizationCheckParams {
  payload: ExactEvmPayload;
  requirement: PaymentRequirement;
  x402Version: 1 | 2;
  nowSeconds: number;
  /** Longer (smart-wallet) signatures are left to the facilitator; without one they are refused. */
  acceptUnverifiedContractSignatures: boolean;
}

export function signatureBytes(signature: string): number {
  return (signature.length - 2) / 2;
}

/** The EIP-712 typed data the buyer signed, for viem. */
export function authorizationTypedData(payload: ExactEvmPayload, requirement: PaymentRequirement) {
  const a = payload.authorization;
  return {
    domain: {
      name: requirement.asset.eip712Domain.name,
      version: requirement.asset.eip712Domain.version,
      chainId: requirement.chainId,
      verifyingContract: getAddress(requirement.asset.address),
    },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization' as const,
    message: {
      from: getAddress(a.from),
      to: getAddress(a.to),
      value: BigInt(a.value),
      validAfter: BigInt(a.validAfter),
      validBefore: BigInt(a.validBefore),
      nonce: a.nonce as Hex,
    },
  };
}

/** Cheap checks first; the signature recovery (the costly one) runs last. */
export async function checkAuthorization(params: AuthorizationCheckParams): Promise<AuthorizationCheck> {
  const { payload, requirement, nowSeconds } = params;
  const a = payload.authorization;
  const now = BigInt(nowSeconds);
  if (!isAddressEqual(getAddress(a.to), getAddress(requirement.payTo))) return { ok: false, reason: X402_REASONS.recipientMismatch };
  if (BigInt(a.validBefore) < now + MIN_VALIDITY_SECONDS) return { ok: false, reason: X402_REASONS.validBeforeExpired };
  if (BigInt(a.validAfter) > now) return { ok: false, reason: X402_REASONS.validAfterInFuture };
  if (BigInt(a.value) !== BigInt(requirement.amount)) {
    return { ok: false, reason: params.x402Version === 1 ? X402_REASONS.valueMismatchV1 : X402_REASONS.valueMismatch };
  }
  const bytes = signatureBytes(payload.signature);
  if (bytes > EOA_SIGNATURE_BYTES) {
    return params.acceptUnverifiedContractSignatures ? { ok: true, payer: a.from } : { ok: false, reason: X402_REASONS.invalidSignature };
  }
  if (bytes !== EOA_SIGNATURE_BYTES) return { ok: false, reason: X402_REASONS.invalidSignature };
  let valid = false;
  try {
    valid = await verifyTypedData({ address: getAddress(a.from), signature: payload.signature as Hex, ...authorizationTypedData(payload, requirement) });
  } catch {
    valid = false;
  }
  return valid ? { ok: true, payer: a.from } : { ok: false, reason: X402_REASONS.invalidSignature };
}
