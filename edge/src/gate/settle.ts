import type { PaymentRequirement } from '../../../core/requirement.js';
import type { PaymentPayload } from '../../../core/x402/payment-header.js';
import { encodeReceipt, receiptHeaderName, receiptNetwork, type FacilitatorRequest, type Receipt } from '../../../core/x402/settlement.js';
import type { FacilitatorClient, SettleOutcome } from './facilitator-client.js';
import type { OriginDeadline } from './origin.js';

/**
 * Settlement after the origin answered < 400 (SPEC §5 step 7). Bodies up to 8 MiB are read in full
 * BEFORE `/settle`, so no byte reaches the buyer unpaid; event streams and larger or unknown-length
 * bodies are settled as soon as the origin's headers arrive, then streamed.
 */
export const MAX_BUFFERED_BODY_BYTES = 8 * 1024 * 1024;

export function settlesOnHeaders(response: Response): boolean {
  if (response.body === null) return false;
  const type = response.headers.get('Content-Type') ?? '';
  if (/^text\/event-stream\b/i.test(type)) return true;
  const length = response.headers.get('Content-Length');
  if (length === null || !/^\d+$/.test(length)) return true;
  return Number(length) > MAX_BUFFERED_BODY_BYTES;
}

export type BodyRead = { ok: true; body: ArrayBuffer | ReadableStream | null } | { ok: false; timedOut: boolean };

/** The origin body to hand on: buffered under the origin deadline, or the live stream. */
export async function readOriginBody(response: Response, deadline: OriginDeadline): Promise<BodyRead> {
  if (settlesOnHeaders(response)) {
    deadline.clear();
    return { ok: true, body: response.body };
  }
  try {
    const body = response.body === null ? null : await response.arrayBuffer();
    return { ok: true, body };
  } catch {
    return { ok: false, timedOut: deadline.timedOut() };
  } finally {
    deadline.clear();
  }
}

export interface SettleContext {
  facilitator: FacilitatorClient;
  request: FacilitatorRequest;
  payment: PaymentPayload;
  requirement: PaymentRequirement;
  payer: string;
}

export interface Settlement {
  outcome: SettleOutcome;
  /** The receipt header for the buyer (absent when the outcome is unknown). */
  receiptHeader?: Record<string, string>;
}

export async function settlePayment(ctx: SettleContext): Promise<Settlement> {
  const outcome = await ctx.facilitator.settle(ctx.request);
  if (outcome.kind === 'unknown') return { outcome };
  const version = ctx.payment.x402Version;
  const receipt: Receipt = {
    success: outcome.kind === 'success',
    transaction: outcome.transaction ?? '',
    network: receiptNetwork(version, ctx.requirement),
    payer: ctx.payer,
    ...(outcome.kind === 'failure' ? { errorReason: outcome.reason } : {}),
  };
  return { outcome, receiptHeader: { [receiptHeaderName(version)]: encodeReceipt(receipt) } };
}
