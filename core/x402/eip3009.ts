import { concat, getAddress, hashDomain, isAddressEqual, keccak256, stringToHex, type Hex } from 'viem';
import type { PaymentRequirement } from '../requirement.js';
import type { ExactEvmPayload } from './payment-header.js';
import { X402_REASONS, type LocalRejectReason } from './reasons.js';
import { hasLowS, recoverSignerAddress } from './secp256k1/recover.js';

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

/** The token's EIP-712 domain: {name, version, chainId, verifyingContract = asset}. */
export function authorizationDomain(requirement: PaymentRequirement) {
  return {
    name: requirement.asset.eip712Domain.name,
    version: requirement.asset.eip712Domain.version,
    chainId: requirement.chainId,
    verifyingContract: getAddress(requirement.asset.address),
  };
}

/** The EIP-712 typed data the buyer signed, for viem. */
export function authorizationTypedData(payload: ExactEvmPayload, requirement: PaymentRequirement) {
  const a = payload.authorization;
  return {
    domain: authorizationDomain(requirement),
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

const TYPE_HASH = keccak256(stringToHex('TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)'));
const MAX_UINT256 = 2n ** 256n - 1n;
const EIP712_DOMAIN_TYPES = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const;

/** Domain separators by token: one per (chain, asset, name, version), computed once per isolate. */
const domainSeparators = new Map<string, Hex>();
const MAX_CACHED_DOMAINS = 1024;

export function authorizationDomainSeparator(requirement: PaymentRequirement): Hex {
  const { name, version } = requirement.asset.eip712Domain;
  const key = `${requirement.chainId}\n${requirement.asset.address.toLowerCase()}\n${name}\n${version}`;
  const cached = domainSeparators.get(key);
  if (cached) return cached;
  const domain = { ...authorizationDomain(requirement), chainId: BigInt(requirement.chainId) };
  const separator = hashDomain({ domain, types: { EIP712Domain: EIP712_DOMAIN_TYPES } });
  if (domainSeparators.size >= MAX_CACHED_DOMAINS) domainSeparators.clear();
  domainSeparators.set(key, separator);
  return separator;
}

function word(value: bigint): string {
  return value.toString(16).padStart(64, '0');
}

/**
 * The EIP-712 digest of the authorization (same value as viem's `hashTypedData`, which re-hashes the
 * types and the domain on every call). Undefined when a number does not fit a uint256.
 */
export function authorizationDigest(payload: ExactEvmPayload, requirement: PaymentRequirement): Hex | undefined {
  const a = payload.authorization;
  const numbers = [BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore)];
  if (numbers.some((n) => n > MAX_UINT256)) return undefined;
  const address = (value: string) => value.slice(2).toLowerCase().padStart(64, '0');
  const encoded = `${TYPE_HASH}${address(a.from)}${address(a.to)}${numbers.map(word).join('')}${a.nonce.slice(2).toLowerCase()}` as Hex;
  return keccak256(concat(['0x1901', authorizationDomainSeparator(requirement), keccak256(encoded)]));
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
  // A high-s twin recovers the same signer but fails on chain: settling it would be a charge that never executes.
  if (bytes !== EOA_SIGNATURE_BYTES || !hasLowS(payload.signature as Hex)) return { ok: false, reason: X402_REASONS.invalidSignature };
  const digest = authorizationDigest(payload, requirement);
  const signer = digest === undefined ? undefined : recoverSignerAddress(digest, payload.signature as Hex);
  return signer !== undefined && isAddressEqual(signer, getAddress(a.from)) ? { ok: true, payer: a.from } : { ok: false, reason: X402_REASONS.invalidSignature };
}
