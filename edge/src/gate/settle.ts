import type { PaymentRequirement } from '../../../core/requirement.js';
import type { PaymentPayload } from '../../../core/x402/payment-header.js';
import { encodeReceipt, receiptHeaderName, receiptNetwork, type FacilitatorRequest, type Receipt } from '../../../core/x402/settlement.js';
import type { FacilitatorClient, SettleOutcome } from './facilitator-client.js';
import type { OriginDeadline } from './origin.js';

/**
 * Settlement after the origin's final answer (SPEC §5 step 7). Only a final status of 200–399 is
 * settled. Bodies are read BEFORE `/settle` whatever their framing, so no byte reaches the buyer
 * unpaid: in full when they end within 8 MiB, under what is left of the origin deadline. Event
 * streams and bodies announced (Content-Length) or found (read past 8 MiB) to be larger are
 * settled as soon as that is known, then streamed — a larger body from its first byte.
 */
export const MAX_BUFFERED_BODY_BYTES = 8 * 1024 * 1024;

export function settlesOn(status: number): boolean {
  return status >= 200 && status < 400;
}

export function settlesOnHeaders(response: Response): boolean {
  if (response.body === null) return false;
  const type = response.headers.get('Content-Type') ?? '';
  if (/^text\/event-stream\b/i.test(type)) return true;
  const length = response.headers.get('Content-Length');
  return length !== null && /^\d+$/.test(length) && Number(length) > MAX_BUFFERED_BODY_BYTES;
}

export type BodyRead = { ok: true; body: ArrayBuffer | ReadableStream | null } | { ok: false; timedOut: boolean };

function joined(chunks: Uint8Array[], bytes: number): ArrayBuffer {
  const body = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body.buffer;
}

/** What was read so far, then the rest of the origin's stream. */
function resumed(head: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  const queued = [...head];
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = queued.shift();
      if (next) return controller.enqueue(next);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** An announced length within the buffer bound, of bytes the runtime will not decode (no Content-Encoding). */
function smallIdentityBody(response: Response): boolean {
  const length = response.headers.get('Content-Length');
  const coding = response.headers.get('Content-Encoding');
  return length !== null && /^\d{1,15}$/.test(length) && Number(length) <= MAX_BUFFERED_BODY_BYTES && (coding === null || /^identity$/i.test(coding.trim()));
}

/** The origin body to hand on: buffered under the origin deadline, or the live stream. */
export async function readOriginBody(response: Response, deadline: OriginDeadline): Promise<BodyRead> {
  if (response.body === null || settlesOnHeaders(response)) {
    deadline.clear();
    return { ok: true, body: response.body };
  }
  // The common case, read natively in one call: its size is known and bounded before a byte arrives.
  if (smallIdentityBody(response)) {
    try {
      return { ok: true, body: await deadline.race(response.arrayBuffer()) };
    } catch {
      return { ok: false, timedOut: deadline.timedOut() };
    } finally {
      deadline.clear();
    }
  }
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await deadline.race(reader.read());
      if (done) return { ok: true, body: joined(chunks, bytes) };
      chunks.push(value);
      bytes += value.length;
      // Past 8 MiB the body is treated as the large body it is: settled now, then streamed.
      if (bytes > MAX_BUFFERED_BODY_BYTES) return { ok: true, body: resumed(chunks, reader) };
    }
  } catch {
    reader.cancel().catch(() => undefined);
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
    transaction: outcome.kind === 'success' ? outcome.transaction : '',
    network: receiptNetwork(version, ctx.requirement),
    payer: ctx.payer,
    ...(outcome.kind === 'failure' ? { errorReason: outcome.reason } : {}),
  };
  return { outcome, receiptHeader: { [receiptHeaderName(version)]: encodeReceipt(receipt) } };
}
