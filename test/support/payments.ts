import { getAddress, toHex, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { PaymentRequirement } from '../../core/requirement.js';
import { encodeBase64Json } from '../../core/x402/base64-json.js';
import { v1Requirement, v2Requirement } from '../../core/x402/challenge.js';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../../core/x402/eip3009.js';
import type { PaymentPayload, PaymentPayloadV1, PaymentPayloadV2 } from '../../core/x402/payment-header.js';

/**
 * Buyers for tests: sign real EIP-3009 authorizations with viem test keys (anvil's well-known
 * development keys, never funded anywhere real), with overrides to tamper with any part.
 */
export const BUYER = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
export const OTHER_KEY = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
export const SELLER = '0x70997970C51812dc3A010C7d01b50e20d17dc79C';

/** A base-sepolia USDC requirement of 0.001 USDC a request. */
export function testRequirement(overrides: Partial<PaymentRequirement> = {}): PaymentRequirement {
  return {
    scheme: 'exact',
    network: 'eip155:84532',
    v1Network: 'base-sepolia',
    chainId: 84532,
    amount: '1000',
    asset: {
      address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      symbol: 'USDC',
      decimals: 6,
      transferMethod: 'eip3009',
      eip712Domain: { name: 'USDC', version: '2' },
    },
    payTo: SELLER,
    maxTimeoutSeconds: 300,
    description: 'x402 payment-gated http service',
    mimeType: 'application/json',
    ...overrides,
  };
}

export interface AuthorizationOverrides {
  from?: string;
  to?: string;
  value?: string;
  validAfter?: string;
  validBefore?: string;
  nonce?: Hex;
}

export interface SignOptions {
  requirement: PaymentRequirement;
  version: 1 | 2;
  resourceUrl?: string;
  account?: PrivateKeyAccount;
  /** Sign with this key while `from` stays the buyer's address (a forged signature). */
  signer?: PrivateKeyAccount;
  authorization?: AuthorizationOverrides;
  domain?: { name?: string; version?: string; chainId?: number; verifyingContract?: string };
  /** v2: fields of `accepted` to replace; v1: scheme/network of the envelope. */
  accepted?: Record<string, unknown>;
  envelope?: { scheme?: string; network?: string };
  nowSeconds?: number;
}

let nonceCounter = 0;
export function freshNonce(): Hex {
  nonceCounter += 1;
  const random = crypto.getRandomValues(new Uint8Array(28));
  return toHex(new Uint8Array([...random, ...new Uint8Array(new Uint32Array([nonceCounter]).buffer)]));
}

export async function signPayment(options: SignOptions): Promise<PaymentPayload> {
  const { requirement } = options;
  const account = options.account ?? BUYER;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const authorization = {
    from: account.address as string,
    to: getAddress(requirement.payTo) as string,
    value: requirement.amount,
    validAfter: String(now - 600),
    validBefore: String(now + requirement.maxTimeoutSeconds),
    nonce: freshNonce() as string,
    ...options.authorization,
  };
  const signature = await (options.signer ?? account).signTypedData({
    domain: {
      name: options.domain?.name ?? requirement.asset.eip712Domain.name,
      version: options.domain?.version ?? requirement.asset.eip712Domain.version,
      chainId: options.domain?.chainId ?? requirement.chainId,
      verifyingContract: getAddress(options.domain?.verifyingContract ?? requirement.asset.address),
    },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message: {
      from: getAddress(authorization.from),
      to: getAddress(authorization.to),
      value: BigInt(authorization.value),
      validAfter: BigInt(authorization.validAfter),
      validBefore: BigInt(authorization.validBefore),
      nonce: authorization.nonce as Hex,
    },
  });
  const payload = { signature, authorization };
  if (options.version === 1) {
    const v1 = v1Requirement(requirement, options.resourceUrl ?? 'https://edge.test/services/x');
    const result: PaymentPayloadV1 = {
      x402Version: 1,
      scheme: options.envelope?.scheme ?? 'exact',
      network: options.envelope?.network ?? v1?.network ?? 'unknown',
      payload,
    };
    return result;
  }
  const accepted = { ...v2Requirement(requirement), ...options.accepted } as PaymentPayloadV2['accepted'];
  const result: PaymentPayloadV2 = { x402Version: 2, accepted, payload };
  return result;
}

export function encodePayment(payment: unknown): string {
  return encodeBase64Json(payment);
}

/** The request header a real client would send for this payment. */
export function paymentHeaders(payment: PaymentPayload): Record<string, string> {
  return payment.x402Version === 1 ? { 'X-PAYMENT': encodePayment(payment) } : { 'PAYMENT-SIGNATURE': encodePayment(payment) };
}

/** The same signed authorization in a v1 envelope (SPEC §5: still a replay). */
export function rewrapAsV1(payment: PaymentPayloadV2, v1Network: string): PaymentPayloadV1 {
  return { x402Version: 1, scheme: 'exact', network: v1Network, payload: payment.payload };
}
