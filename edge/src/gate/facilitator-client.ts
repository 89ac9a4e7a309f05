import { z } from 'zod';
import { facilitatorReasonForBuyer, SETTLE_REASONS_BEFORE_SENDING } from '../../../core/x402/reasons.js';
import type { FacilitatorRequest } from '../../../core/x402/settlement.js';

/**
 * The x402 facilitator over HTTP (`POST /verify`, `POST /settle`). Every call has its own
 * timeout; failures become values the gate maps to statuses in one place.
 */

/** Extra headers per call, e.g. a short-lived CDP JWT minted for this exact request. */
export type FacilitatorHeaderProvider = (call: { operation: 'verify' | 'settle'; method: 'POST'; url: string; body: string }) => Promise<Record<string, string>> | Record<string, string>;

export type VerifyOutcome =
  | { kind: 'valid'; payer?: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'unreachable'; detail: string };

export type SettleOutcome =
  | { kind: 'success'; transaction: string; network?: string; payer?: string }
  /** Raised before any transaction was sent: the buyer was not charged. */
  | { kind: 'failure'; reason: string }
  | { kind: 'unknown'; detail: string };

const VerifyResponse = z.object({
  isValid: z.boolean(),
  invalidReason: z.string().nullish(),
  invalidMessage: z.string().nullish(),
  payer: z.string().nullish(),
});

const SettleResponse = z.object({
  success: z.boolean(),
  errorReason: z.string().nullish(),
  errorMessage: z.string().nullish(),
  transaction: z.string().nullish(),
  network: z.string().nullish(),
  payer: z.string().nullish(),
});

/** x402's word for "submitted, outcome not known yet". */
const SETTLEMENT_PENDING = 'settlement_pending';

export interface FacilitatorClient {
  verify(request: FacilitatorRequest): Promise<VerifyOutcome>;
  settle(request: FacilitatorRequest): Promise<SettleOutcome>;
}

export interface FacilitatorClientOptions {
  url: string;
  /** Per `/verify` call. */
  timeoutMs: number;
  /** Per `/settle` call (default `timeoutMs`): it lasts until the transaction is mined. */
  settleTimeoutMs?: number | undefined;
  /** The `Authorization` FACILITATOR_AUTH selects (`facilitatorAuth`): a static bearer or a CDP JWT per call. */
  auth?: FacilitatorHeaderProvider | undefined;
  /** Code callers' headers (`createGate({ facilitatorHeaders })`), added after and over `auth`'s. */
  headers?: FacilitatorHeaderProvider | undefined;
}

type Posted = { ok: true; status: number; json: unknown } | { ok: false; detail: string };

async function post(options: FacilitatorClientOptions, operation: 'verify' | 'settle', request: FacilitatorRequest): Promise<Posted> {
  const url = `${options.url}/${operation}`;
  const body = JSON.stringify(request);
  const timeoutMs = operation === 'settle' ? (options.settleTimeoutMs ?? options.timeoutMs) : options.timeoutMs;
  // The runtime's own timer: no JS timer to arm and clear on every call of the hot path.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const call = { operation, method: 'POST', url, body } as const;
    if (options.auth) Object.assign(headers, await options.auth(call));
    if (options.headers) Object.assign(headers, await options.headers(call));
    const response = await fetch(url, { method: 'POST', headers, body, signal });
    const text = await response.text();
    if (response.status >= 500) return { ok: false, detail: `HTTP ${response.status}` };
    // The gate's own credentials were refused: never the buyer's fault, whatever the body says.
    if (response.status === 401 || response.status === 403) return { ok: false, detail: `HTTP ${response.status}: the facilitator refused this edge's credentials (FACILITATOR_AUTH)` };
    try {
      return { ok: true, status: response.status, json: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, detail: `HTTP ${response.status}, body is not JSON` };
    }
  } catch (error) {
    return { ok: false, detail: signal.aborted ? `no answer within ${timeoutMs} ms` : String(error) };
  }
}

export function createFacilitatorClient(options: FacilitatorClientOptions): FacilitatorClient {
  return {
    async verify(request) {
      const posted = await post(options, 'verify', request);
      if (!posted.ok) return { kind: 'unreachable', detail: posted.detail };
      const parsed = VerifyResponse.safeParse(posted.json);
      if (!parsed.success) return { kind: 'unreachable', detail: `HTTP ${posted.status}, not a verify response` };
      const answer = parsed.data;
      if (answer.isValid && posted.status < 300) return answer.payer ? { kind: 'valid', payer: answer.payer } : { kind: 'valid' };
      const reason = answer.invalidReason ?? answer.invalidMessage ?? `verify_rejected_http_${posted.status}`;
      return { kind: 'invalid', reason: facilitatorReasonForBuyer(reason) };
    },
    async settle(request) {
      const posted = await post(options, 'settle', request);
      if (!posted.ok) return { kind: 'unknown', detail: posted.detail };
      const parsed = SettleResponse.safeParse(posted.json);
      if (!parsed.success) return { kind: 'unknown', detail: `HTTP ${posted.status}, not a settle response` };
      const answer = parsed.data;
      if (answer.success && answer.transaction && posted.status < 300) {
        return { kind: 'success', transaction: answer.transaction, ...(answer.network ? { network: answer.network } : {}), ...(answer.payer ? { payer: answer.payer } : {}) };
      }
      if (answer.success || answer.errorReason === SETTLEMENT_PENDING) return { kind: 'unknown', detail: 'settlement not confirmed' };
      const reason = facilitatorReasonForBuyer(answer.errorReason ?? answer.errorMessage ?? `settle_failed_http_${posted.status}`);
      // Only a failure raised before sending is final; any other may have moved the money, and the chain then decides (never a re-challenge the buyer would pay again).
      if (answer.transaction || !SETTLE_REASONS_BEFORE_SENDING.has(reason)) return { kind: 'unknown', detail: `settle failed after a transaction may have been sent: ${reason}` };
      return { kind: 'failure', reason };
    },
  };
}
