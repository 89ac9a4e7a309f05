import {
  declarePaymentIdentifierExtension,
  PAYMENT_ID_MAX_LENGTH,
  PAYMENT_ID_MIN_LENGTH,
  PAYMENT_ID_PATTERN,
  PAYMENT_IDENTIFIER,
} from '@x402/extensions/payment-identifier';
import { z } from 'zod';
import { sha256Hex } from '../sha256.js';
import type { PaymentPayload } from './payment-header.js';

/**
 * The x402 `payment-identifier` extension as `@x402/extensions` defines it: the 402 declares it
 * (optional), a v2 client echoes the declaration in its payment with an `info.id` of its choosing,
 * and the gate answers a retry of a settled payment under that id with the stored answer.
 */
export { PAYMENT_IDENTIFIER };

/** The 402's declaration: clients may send an identifier; without one a payment is served as before. */
export const PAYMENT_IDENTIFIER_DECLARATION = declarePaymentIdentifierExtension(false);

/**
 * The package's `validatePaymentIdentifier` rules (an `info` object, a boolean `required`, an id of
 * 16–128 letters, digits, `-` and `_`) as a schema: its own validator compiles the client's echoed
 * JSON Schema with Ajv, which workerd refuses (no code generation from strings).
 */
const Extension = z.object({
  info: z.object({
    required: z.boolean(),
    id: z.string().min(PAYMENT_ID_MIN_LENGTH).max(PAYMENT_ID_MAX_LENGTH).regex(PAYMENT_ID_PATTERN, 'only letters, digits, "-" and "_"').optional(),
  }),
});

export type PaymentIdentifierRead = { ok: true; id?: string } | { ok: false; message: string };

/** The payment's identifier, if it carries one; absent (or `null`, as the package reads it) is no identifier. */
export function readPaymentIdentifier(payment: PaymentPayload): PaymentIdentifierRead {
  if (payment.x402Version !== 2) return { ok: true };
  const extension = payment.extensions?.[PAYMENT_IDENTIFIER];
  if (extension === undefined || extension === null) return { ok: true };
  const parsed = Extension.safeParse(extension);
  if (!parsed.success) return { ok: false, message: `extensions["${PAYMENT_IDENTIFIER}"] is malformed:\n${z.prettifyError(parsed.error)}`.slice(0, 300) };
  const { id } = parsed.data.info;
  return id === undefined ? { ok: true } : { ok: true, id };
}

/** JSON with every object's keys in code-point order, so one payload has one text however it was encoded. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}

/**
 * What "the same payment" means for a retry under an identifier: the same signed payment payload
 * (authorization, signature, accepted terms, extensions) sent as the same request (method, path
 * and query). SHA-256 of its canonical JSON, so the ledger keeps 32 bytes, not the payload.
 */
export function paymentFingerprint(params: { payment: PaymentPayload; method: string; target: string }): Promise<string> {
  return sha256Hex(canonicalJson({ method: params.method, target: params.target, payment: params.payment }));
}
