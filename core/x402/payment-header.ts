import { z } from 'zod';
import { Base64JsonError, decodeBase64Json } from './base64-json.js';
import { GATE_REASONS } from './reasons.js';

/** Parsing of the buyer's payment header (SPEC §5 step 2): strict base64 → JSON → schema → version. */

export const X_PAYMENT_HEADER = 'X-PAYMENT';
export const PAYMENT_SIGNATURE_HEADER = 'PAYMENT-SIGNATURE';
/** Largest payment header accepted, in characters (SPEC §5: 16 KiB). */
export const MAX_PAYMENT_HEADER_CHARS = 16 * 1024;

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);

export const Eip3009Authorization = z.object({
  from: address,
  to: address,
  value: uint,
  validAfter: uint,
  validBefore: uint,
  nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
});
export type Eip3009Authorization = z.infer<typeof Eip3009Authorization>;

export const ExactEvmPayload = z.object({
  signature: z.string().regex(/^0x(?:[0-9a-fA-F]{2})+$/),
  authorization: Eip3009Authorization,
});
export type ExactEvmPayload = z.infer<typeof ExactEvmPayload>;

const extra = z.record(z.string(), z.unknown());

export const PaymentPayloadV1 = z.object({
  x402Version: z.literal(1),
  scheme: z.string().min(1).max(64),
  network: z.string().min(1).max(64),
  payload: ExactEvmPayload,
});
export type PaymentPayloadV1 = z.infer<typeof PaymentPayloadV1>;

export const AcceptedRequirement = z.object({
  scheme: z.string().min(1).max(64),
  network: z.string().min(1).max(64),
  amount: z.string().min(1).max(80),
  asset: z.string().min(1).max(128),
  payTo: z.string().min(1).max(128),
  maxTimeoutSeconds: z.number(),
  extra: extra.nullish(),
});
export type AcceptedRequirement = z.infer<typeof AcceptedRequirement>;

export const PaymentPayloadV2 = z.object({
  x402Version: z.literal(2),
  resource: z.record(z.string(), z.unknown()).nullish(),
  accepted: AcceptedRequirement,
  payload: ExactEvmPayload,
  extensions: z.record(z.string(), z.unknown()).nullish(),
});
export type PaymentPayloadV2 = z.infer<typeof PaymentPayloadV2>;

export type PaymentPayload = PaymentPayloadV1 | PaymentPayloadV2;

export class InvalidPaymentHeaderError extends Error {
  readonly reason = GATE_REASONS.invalidPaymentHeader;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPaymentHeaderError';
  }
}

/** The payment header(s) as the request carried them; undefined when absent. */
export interface PaymentHeaders {
  xPayment?: string | undefined;
  paymentSignature?: string | undefined;
}

export function hasPaymentHeader(headers: PaymentHeaders): boolean {
  return headers.xPayment !== undefined || headers.paymentSignature !== undefined;
}

/** Decode the one payment header a request carries; throws InvalidPaymentHeaderError. */
export function parsePaymentHeader(headers: PaymentHeaders): PaymentPayload {
  if (headers.xPayment !== undefined && headers.paymentSignature !== undefined) {
    throw new InvalidPaymentHeaderError(`send either ${X_PAYMENT_HEADER} (x402 v1) or ${PAYMENT_SIGNATURE_HEADER} (x402 v2), not both`);
  }
  const v1 = headers.xPayment !== undefined;
  const name = v1 ? X_PAYMENT_HEADER : PAYMENT_SIGNATURE_HEADER;
  const raw = (v1 ? headers.xPayment : headers.paymentSignature) ?? '';
  if (raw.length > MAX_PAYMENT_HEADER_CHARS) throw new InvalidPaymentHeaderError(`${name} is larger than ${MAX_PAYMENT_HEADER_CHARS} bytes`);
  let json: unknown;
  try {
    json = decodeBase64Json(raw.trim());
  } catch (error) {
    const detail = error instanceof Base64JsonError ? error.message : 'undecodable';
    throw new InvalidPaymentHeaderError(`${name}: ${detail}`);
  }
  const version = typeof json === 'object' && json !== null && 'x402Version' in json ? json.x402Version : undefined;
  const expected = v1 ? 1 : 2;
  if (version !== expected) {
    throw new InvalidPaymentHeaderError(`${name} must carry x402Version ${expected}, got ${JSON.stringify(version) ?? 'none'}`);
  }
  const parsed = (v1 ? PaymentPayloadV1 : PaymentPayloadV2).safeParse(json);
  if (!parsed.success) {
    // bounded: the message is the 400 body's `error`
    throw new InvalidPaymentHeaderError(`${name} does not fit the x402 v${expected} exact-EVM payload:\n${z.prettifyError(parsed.error)}`.slice(0, 300));
  }
  return parsed.data;
}
