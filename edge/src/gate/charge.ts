import type { PaymentRequirement } from '../../../core/requirement.js';
import { checkAuthorization, type AuthorizationCheck } from '../../../core/x402/eip3009.js';
import { matchPayment } from '../../../core/x402/match.js';
import type { PaymentPayload } from '../../../core/x402/payment-header.js';
import { GATE_REASONS, X402_REASONS } from '../../../core/x402/reasons.js';
import { authorizationKey, facilitatorRequest, type FacilitatorRequest } from '../../../core/x402/settlement.js';
import type { Env } from '../env.js';
import type { GateEvent } from '../metrics/recorder.js';
import { facilitatorClientFromEnv, type FacilitatorClient, type VerifyOutcome } from './facilitator-client.js';
import { ledgerFor } from './ledger-client.js';
import { forwardToOrigin } from './origin.js';
import { challengeResponse, jsonResponse, passThrough, type RouteContext } from './responses.js';
import type { NonceLedger } from './nonce-ledger.js';
import type { Spans } from './server-timing.js';
import { readOriginBody, settlePayment, settlesOn } from './settle.js';
import type { GateSettings } from './settings.js';
import type { GateOptions } from './routes.js';

/** One paid request on its way through steps 3–7 of SPEC §5. */
export interface Charge {
  readonly request: Request;
  readonly env: Env;
  readonly route: RouteContext;
  readonly requirement: PaymentRequirement;
  readonly resourceUrl: string;
  readonly settings: GateSettings;
  readonly options: GateOptions;
  readonly spans: Spans;
  record(event: GateEvent, reason?: string): void;
  /** Work that must finish but need not delay the answer (the request's ExecutionContext). */
  waitUntil(promise: Promise<unknown>): void;
}

/** A refused payment: 402 re-challenge whose `error` names the reason. */
export function refuse(g: Charge, reason: string, extra: Record<string, string> = {}): Response {
  g.record('payment_failed', reason);
  g.record('payment_required');
  return challengeResponse(g.route, g.requirement, g.resourceUrl, reason, extra);
}

/** Step 3: the payment answers our requirement and its authorization checks out, locally. */
export async function checkLocally(g: Charge, payment: PaymentPayload): Promise<AuthorizationCheck> {
  const matched = matchPayment(payment, g.requirement);
  if (!matched.ok) return matched;
  return checkAuthorization({
    payload: payment.payload,
    requirement: g.requirement,
    x402Version: payment.x402Version,
    nowSeconds: Math.floor(Date.now() / 1000),
    // Without a facilitator's /verify nobody could check a smart-wallet signature.
    acceptUnverifiedContractSignatures: g.settings.verifyMode === 'facilitator',
  });
}

function validBeforeMs(payment: PaymentPayload): number {
  const seconds = BigInt(payment.payload.authorization.validBefore);
  return seconds > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000)) ? Number.MAX_SAFE_INTEGER : Number(seconds) * 1000;
}

async function bestEffort(what: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: `nonce ledger: ${what} failed`, error: String(error) }));
  }
}

/** Steps 4–5: claim the authorization, then (unless VERIFY_MODE=local) ask the facilitator. */
export async function claimAndServe(g: Charge, payment: PaymentPayload, payer: string): Promise<Response> {
  const key = authorizationKey(g.requirement, payment);
  const ledger = ledgerFor(g.env, payment);
  const request = facilitatorRequest(payment, g.requirement, g.resourceUrl);
  const facilitator = facilitatorClientFromEnv(g.env, g.settings, g.options.facilitatorHeaders);
  const verified: Verified = { payment, payer, key, request, facilitator, ledger };
  // The claim comes first and alone decides whether this payment goes on: a payment the ledger
  // refuses (a replay) never reaches the facilitator.
  const claim = await ledger.claim(key, validBeforeMs(payment));
  g.spans.mark('claim');
  if (!claim.ok) return claim.state === 'pending' ? settlementUnknown(g) : refuse(g, X402_REASONS.nonceAlreadyUsed);
  if (g.settings.verifyMode === 'facilitator') {
    const answer = await facilitator.verify(request).catch((error: unknown): VerifyOutcome => ({ kind: 'unreachable', detail: String(error) }));
    g.spans.mark('verify');
    if (answer.kind !== 'valid') {
      await bestEffort('release', () => ledger.release(key));
      if (answer.kind === 'invalid') return refuse(g, answer.reason);
      console.warn(JSON.stringify({ level: 'warn', msg: 'facilitator unreachable at verify', detail: answer.detail }));
      g.record('payment_failed', GATE_REASONS.facilitatorUnreachable);
      return jsonResponse(503, { error: 'facilitator_unreachable', reason: GATE_REASONS.facilitatorUnreachable, retriable: true }, g.route);
    }
  }
  g.record('payment_verified');
  return forwardAndSettle(g, verified);
}

function settlementUnknown(g: Charge): Response {
  g.record('payment_failed', GATE_REASONS.settlementUnknown);
  return jsonResponse(503, { error: 'settlement_unknown', reason: GATE_REASONS.settlementUnknown, retriable: false }, g.route);
}

interface Verified {
  payment: PaymentPayload;
  payer: string;
  key: string;
  request: FacilitatorRequest;
  facilitator: FacilitatorClient;
  ledger: DurableObjectStub<NonceLedger>;
}

/**
 * Steps 6–7: forward, then settle only on the origin's final status 200–399, its body read first.
 *
 * The claim this request holds already refuses every other use of the authorization (only its own
 * failed /verify could have released it), so the ledger's final state — `settled` with the tx hash,
 * or `consumed` when the origin was reached but nothing was settled — is written in the background
 * once the outcome is known. Only `pending` is written before answering: the background resolution
 * must be scheduled before the buyer hears "unknown".
 */
async function forwardAndSettle(g: Charge, v: Verified): Promise<Response> {
  const { ledger, key } = v;
  const consumed = () => g.waitUntil(bestEffort('consumed', () => ledger.consume(key)));
  const origin = await forwardToOrigin({ request: g.request, payer: v.payer, env: g.env, originUrl: g.settings.originUrl, timeoutMs: g.settings.originTimeoutMs });
  g.spans.mark('origin');
  if (origin.kind !== 'response') {
    consumed();
    const reason = origin.kind === 'timeout' ? 'origin_timeout' : origin.kind === 'invalid' ? 'origin_invalid_response' : 'origin_unreachable';
    g.record('payment_failed', reason);
    return jsonResponse(origin.kind === 'timeout' ? 504 : 502, { error: reason }, g.route);
  }
  const response = origin.response;
  if (!settlesOn(response.status)) {
    consumed();
    origin.deadline.clear();
    g.record('payment_failed', 'origin_error');
    return passThrough(response, g.route, response.body);
  }
  const body = await readOriginBody(response, origin.deadline);
  if (!body.ok) {
    consumed();
    const reason = body.timedOut ? 'origin_timeout' : 'origin_unreachable';
    g.record('payment_failed', reason);
    return jsonResponse(body.timedOut ? 504 : 502, { error: reason }, g.route);
  }
  const settlement = await settlePayment({ facilitator: v.facilitator, request: v.request, payment: v.payment, requirement: g.requirement, payer: v.payer });
  g.spans.mark('settle');
  const { outcome } = settlement;
  if (outcome.kind === 'success') {
    g.waitUntil(bestEffort('settled', () => ledger.settled(key, outcome.transaction)));
    g.record('charged');
    return passThrough(response, g.route, body.body, settlement.receiptHeader);
  }
  if (body.body instanceof ReadableStream) await body.body.cancel().catch(() => undefined);
  if (outcome.kind === 'failure') {
    consumed();
    return refuse(g, outcome.reason, settlement.receiptHeader);
  }
  await bestEffort('pending', () => ledger.pending(key, JSON.stringify(v.request)));
  console.warn(JSON.stringify({ level: 'warn', msg: 'settlement outcome unknown; resolving in the background', detail: outcome.detail }));
  return settlementUnknown(g);
}
