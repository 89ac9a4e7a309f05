/**
 * The wire shape of the facilitator's `/verify` and `/settle` bodies (x402 v1 and v2 with the
 * exact EVM scheme's EIP-3009 payload). Only structure is checked here, so that the official
 * library never throws on malformed input; every payment rule stays with `@x402/evm`.
 */
import { z } from 'zod';

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x-prefixed 20-byte address');
const Uint256 = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal integer string');
const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'an 0x-prefixed 32-byte hex string');
/** 65-byte EOA signatures and longer ERC-1271 / ERC-6492 ones; bounded by the body limit. */
const Signature = z.string().regex(/^0x([0-9a-fA-F]{2}){65,}$/, 'an 0x-prefixed signature of at least 65 bytes');
const Network = z.string().min(1).max(64);
const Extra = z.record(z.string(), z.unknown());

const Eip3009Payload = z.looseObject({
  authorization: z.object({
    from: Address,
    to: Address,
    value: Uint256,
    validAfter: Uint256,
    validBefore: Uint256,
    nonce: Bytes32,
  }),
  signature: Signature,
});

const RequirementsV2 = z.looseObject({
  scheme: z.string().min(1).max(32),
  network: Network,
  asset: Address,
  amount: Uint256,
  payTo: Address,
  maxTimeoutSeconds: z.number().int().positive(),
  extra: Extra,
});

const RequirementsV1 = z.looseObject({
  scheme: z.string().min(1).max(32),
  network: Network,
  maxAmountRequired: Uint256,
  resource: z.string().max(4096).optional(),
  description: z.string().max(4096).optional(),
  mimeType: z.string().max(256).optional(),
  payTo: Address,
  maxTimeoutSeconds: z.number().int().positive(),
  asset: Address,
  extra: Extra.optional(),
});

const PayloadV2 = z.looseObject({
  x402Version: z.literal(2),
  accepted: RequirementsV2,
  payload: Eip3009Payload,
  resource: z.looseObject({ url: z.string() }).optional(),
  extensions: Extra.optional(),
});

const PayloadV1 = z.looseObject({
  x402Version: z.literal(1),
  scheme: z.string().min(1).max(32),
  network: Network,
  payload: Eip3009Payload,
});

/** `{x402Version, paymentPayload, paymentRequirements}`; the payload must carry the same version. */
export const FacilitatorRequest = z.discriminatedUnion('x402Version', [
  z.object({ x402Version: z.literal(1), paymentPayload: PayloadV1, paymentRequirements: RequirementsV1 }),
  z.object({ x402Version: z.literal(2), paymentPayload: PayloadV2, paymentRequirements: RequirementsV2 }),
]);
export type FacilitatorRequest = z.infer<typeof FacilitatorRequest>;

/** The first ten problems as zod prints them, for a 400 body. */
export function describeRequestProblems(error: z.ZodError): string[] {
  return [z.prettifyError({ issues: error.issues.slice(0, 10) })];
}
