/**
 * Reason codes in x402's own vocabulary (the strings `@x402/evm` 2.27's exact-EVM facilitator
 * returns), so buyers' clients and dashboards see the same words whoever rejected the payment.
 */
export const X402_REASONS = {
  invalidScheme: 'invalid_exact_evm_scheme',
  networkMismatch: 'invalid_exact_evm_network_mismatch',
  recipientMismatch: 'invalid_exact_evm_recipient_mismatch',
  invalidSignature: 'invalid_exact_evm_signature',
  validBeforeExpired: 'invalid_exact_evm_payload_authorization_valid_before',
  validAfterInFuture: 'invalid_exact_evm_payload_authorization_valid_after',
  /** v2 facilitators: `authorization.value` differs from `amount`. */
  valueMismatch: 'invalid_exact_evm_payload_authorization_value_mismatch',
  /** v1 facilitators: `authorization.value` differs from `maxAmountRequired`. */
  valueMismatchV1: 'invalid_exact_evm_authorization_value',
  tokenNameMismatch: 'invalid_exact_evm_token_name_mismatch',
  tokenVersionMismatch: 'invalid_exact_evm_token_version_mismatch',
  nonceAlreadyUsed: 'invalid_exact_evm_nonce_already_used',
  paymentRequired: 'payment_required',
} as const;

/**
 * `/settle` failures a facilitator raises before it sends any transaction (x402's standard codes,
 * the CDP facilitator's, and `@x402/evm` 2.27's re-verification and gas estimation): the transfer
 * did not happen. Not here, on purpose: the nonce already used (someone executed it: the money
 * moved), `invalid_exact_evm_transaction_failed` (also what a send that threw midway answers), the
 * transfer-event mismatch (a mined transaction), and every code not known to come before sending.
 */
export const SETTLE_REASONS_BEFORE_SENDING: ReadonlySet<string> = new Set([
  'insufficient_funds',
  'invalid_scheme',
  'unsupported_scheme',
  'invalid_network',
  'invalid_x402_version',
  'invalid_payment_requirements',
  'invalid_payload',
  'invalid_exact_evm_payload_signature',
  'invalid_exact_evm_payload_signature_address',
  'invalid_exact_evm_payload_authorization_value',
  'invalid_exact_evm_payload_authorization_value_too_low',
  'invalid_exact_evm_payload_authorization_typed_data_message',
  'invalid_exact_evm_payload_authorization_from_address_kyt',
  'invalid_exact_evm_payload_authorization_to_address_kyt',
  'invalid_exact_evm_payload_recipient_mismatch',
  X402_REASONS.invalidScheme,
  X402_REASONS.networkMismatch,
  X402_REASONS.recipientMismatch,
  X402_REASONS.invalidSignature,
  X402_REASONS.validBeforeExpired,
  X402_REASONS.validAfterInFuture,
  X402_REASONS.valueMismatch,
  X402_REASONS.valueMismatchV1,
  X402_REASONS.tokenNameMismatch,
  X402_REASONS.tokenVersionMismatch,
  'invalid_exact_evm_missing_eip712_domain',
  'invalid_exact_evm_insufficient_balance',
  'invalid_exact_evm_transaction_simulation_failed',
  'invalid_exact_evm_eip3009_not_supported',
  'invalid_exact_evm_failed_to_parse_signature',
  'asset_not_deployed_contract',
  'eip6492_factory_not_allowed',
  'smart_wallet_deployment_failed',
  'unsupported_payload_type',
]);

/**
 * Codes x402 has no word for. `@x402/core` answers a v2 `accepted` that matches no advertised
 * requirement with free text ("No matching payment requirements"); we give it a stable code.
 */
export const GATE_REASONS = {
  invalidPaymentHeader: 'invalid_payment_header',
  requirementsMismatch: 'payment_requirements_mismatch',
  settlementUnknown: 'settlement_unknown',
  facilitatorUnreachable: 'facilitator_unreachable',
  /** The `payment-identifier` extension (docs/payment-gate.md "Retries under a payment identifier"). */
  invalidPaymentIdentifier: 'invalid_payment_identifier',
  paymentIdentifierConflict: 'payment_identifier_conflict',
  paymentInProgress: 'payment_in_progress',
  paymentAnswerNotKept: 'payment_answer_not_kept',
} as const;

export type LocalRejectReason =
  | (typeof X402_REASONS)[Exclude<keyof typeof X402_REASONS, 'paymentRequired' | 'nonceAlreadyUsed'>]
  | typeof GATE_REASONS.requirementsMismatch;

const CODE = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAX_FREE_TEXT = 200;

/**
 * A facilitator's reason on its way to a body or header: codes pass through untouched (even ones
 * we do not know), free text is cut to 200 characters.
 */
export function facilitatorReasonForBuyer(reason: string): string {
  if (CODE.test(reason)) return reason;
  return reason.length <= MAX_FREE_TEXT ? reason : reason.slice(0, MAX_FREE_TEXT);
}
