import type { PaymentPayload } from '../../../core/x402/payment-header.js';
import type { Env } from '../env.js';
import type { NonceLedger } from './nonce-ledger.js';

/** The payer's shard of the replay guard; one Durable Object per lower-cased `from`. */
export function ledgerFor(env: Env, payment: PaymentPayload): DurableObjectStub<NonceLedger> {
  return env.NONCES.getByName(payment.payload.authorization.from.toLowerCase());
}
