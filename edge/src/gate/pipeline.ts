import { checkAuthorization, type AuthorizationCheck } from '../../../core/x402/eip3009.js';
import type { PaymentRequirement } from '../../../core/requirement.js';
import { selectRequirement } from '../../../core/x402/match.js';
import { hasPaymentHeader, InvalidPaymentHeaderError, parsePaymentHeader, PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER, type PaymentPayload } from '../../../core/x402/payment-header.js';
import { paymentFingerprint, readPaymentIdentifier } from '../../../core/x402/payment-identifier.js';
import { GATE_REASONS, X402_REASONS } from '../../../core/x402/reasons.js';
import { authorizationKey, facilitatorRequest, type FacilitatorRequest } from '../../../core/x402/settlement.js';
import type { Env } from '../env.js';
import type { FacilitatorClient, VerifyOutcome } from './facilitator-client.js';
import { ledgerFor, ledgerShard } from './ledger-client.js';
import type { ClaimResult, IdentifiedPayment, NonceLedger } from './nonce-ledger.js';
import { forwardToOrigin } from './origin.js';
import type { PaidRoute, PaymentOutcome } from './outcomes.js';
import { answerToKeep } from './payment-identifiers.js';
import { readOriginBody, settlePayment, settlesOn } from './settle.js';
import { queueSettled, requeueSettled, takeSettled } from './settled-queue.js';
import type { GateSettings } from './settings.js';

/**
 * The x402 gate's payment steps, SPEC §5 1–7, in their exact order, top to bottom. Each step
 * either ends the request with a `PaymentOutcome` or hands on to the next; `answers.ts` turns the
 * outcome into the HTTP answer. Nothing reaches the facilitator before the ledger's claim (step 4),
 * nothing reaches the origin before /verify (step 5), and nothing is settled before the origin's
 * final answer and body are in (steps 6–7).
 */
export interface PaymentContext {
  readonly env: Env;
  readonly settings: GateSettings;
  /** Built once per settings by `createGate`, with its authentication. */
  readonly facilitator: FacilitatorClient;
  /** Work that must finish but need not delay the answer (the request's ExecutionContext). */
  waitUntil(promise: Promise<unknown>): void;
  /** Closes a Server-Timing span (a no-op unless GATE_SERVER_TIMING=1). */
  trace(step: string): void;
  /** Step 3 found the option the payment pays: the metrics' chain and asset follow it. */
  paying(option: PaymentRequirement): void;
}

type Ledger = DurableObjectStub<NonceLedger>;

export async function runPayment(request: Request, paid: PaidRoute, ctx: PaymentContext): Promise<PaymentOutcome> {
  // Step 1: no payment header → the challenge (before any validation of the request itself).
  const headers = { xPayment: request.headers.get(X_PAYMENT_HEADER) ?? undefined, paymentSignature: request.headers.get(PAYMENT_SIGNATURE_HEADER) ?? undefined };
  if (!hasPaymentHeader(headers)) return { kind: 'payment_required' };

  // Step 2: the header decodes, parses and fits its version.
  let payment: PaymentPayload;
  try {
    payment = parsePaymentHeader(headers);
  } catch (error) {
    if (!(error instanceof InvalidPaymentHeaderError)) throw error;
    return { kind: 'invalid_payment_header', message: error.message, reason: error.reason };
  }
  // …and its `payment-identifier`, if any, fits the extension's rules.
  const identifier = readPaymentIdentifier(payment);
  if (!identifier.ok) return { kind: 'invalid_payment_header', message: identifier.message, reason: GATE_REASONS.invalidPaymentIdentifier };
  ctx.trace('parse');

  // Step 3: it answers our requirement and its authorization checks out — locally, no network.
  const local = await checkLocally(payment, paid, ctx.settings);
  ctx.trace('local_checks');
  if (!local.ok) return { kind: 'refused', reason: local.reason };
  // From here on every step works on the option paid: its chain's replay key, facilitator request and receipt.
  const { requirement } = local;
  ctx.paying(requirement);

  const identified = identifier.id === undefined ? undefined : await identify(identifier.id, payment, request);
  // From the claim on, only this request can bring the authorization to its final state, so it runs
  // to the end even if the buyer hangs up (a claim may commit after a disconnect): a retry then finds
  // the answer, not a claim left in flight.
  const finished = claimAndRun(request, paid, ctx, { payment, requirement, payer: local.payer, identifier: identifier.id, identified });
  ctx.waitUntil(finished.catch(() => undefined));
  return finished;
}

async function claimAndRun(request: Request, paid: PaidRoute, ctx: PaymentContext, p: Pick<Claimed, 'payment' | 'requirement' | 'payer' | 'identifier'> & { identified: IdentifiedPayment | undefined }): Promise<PaymentOutcome> {
  // Step 4: the replay guard. The claim alone decides whether this payment goes on; a payment the
  // ledger refuses never reaches the facilitator.
  const key = authorizationKey(p.requirement, p.payment);
  const shard = ledgerShard(p.payment.payload.authorization.from);
  const ledger = ledgerFor(ctx.env, shard);
  const claim = await claimWithEarlierSettlements(ledger, shard, key, validBeforeMs(p.payment), p.identified);
  ctx.trace('claim');
  if (!claim.ok) return refusedClaim(claim);
  const facilitatorBody = facilitatorRequest(p.payment, p.requirement, paid.resourceUrl);
  return verifyAndForward(request, paid, ctx, { payment: p.payment, requirement: p.requirement, payer: p.payer, key, shard, ledger, facilitatorBody, identifier: p.identifier });
}

async function verifyAndForward(request: Request, paid: PaidRoute, ctx: PaymentContext, c: Claimed): Promise<PaymentOutcome> {
  // Step 5: the facilitator's /verify (unless VERIFY_MODE=local); a failure gives the claim back.
  if (ctx.settings.verifyMode === 'facilitator') {
    const answer = await ctx.facilitator.verify(c.facilitatorBody).catch((error: unknown): VerifyOutcome => ({ kind: 'unreachable', detail: String(error) }));
    ctx.trace('verify');
    if (answer.kind !== 'valid') {
      await bestEffort('release', () => c.ledger.release(c.key));
      if (answer.kind === 'invalid') return { kind: 'refused', reason: answer.reason };
      console.warn(JSON.stringify({ level: 'warn', msg: 'facilitator unreachable at verify', detail: answer.detail }));
      return { kind: 'facilitator_unreachable' };
    }
  }

  // Steps 6–7: forward, then settle only on the origin's final status 200–399, its body read first.
  return forwardAndSettle(request, paid, ctx, c);
}

/** The claim, carrying this payer's settled rows that earlier requests queued: one round trip for both. */
async function claimWithEarlierSettlements(ledger: Ledger, shard: string, key: string, validBefore: number, identified: IdentifiedPayment | undefined): Promise<ClaimResult> {
  const earlier = takeSettled(shard);
  try {
    return await ledger.claim(key, validBefore, identified, earlier);
  } catch (error) {
    if (earlier) requeueSettled(shard, earlier);
    throw error;
  }
}

async function identify(id: string, payment: PaymentPayload, request: Request): Promise<IdentifiedPayment> {
  const url = new URL(request.url);
  return { id, fingerprint: await paymentFingerprint({ payment, method: request.method, target: `${url.pathname}${url.search}` }) };
}

/** Step 4's refusals: a replay, a settlement still unknown, or the same payment retried under its identifier. */
function refusedClaim(claim: Exclude<ClaimResult, { ok: true }>): PaymentOutcome {
  if (claim.refusal === 'identifier_conflict') return { kind: 'identifier_conflict' };
  if (claim.state === 'pending') return { kind: 'authorization_pending' };
  if (claim.refusal === 'retried' && claim.state === 'claimed') return { kind: 'payment_in_progress' };
  if (claim.refusal === 'retried' && claim.state === 'settled') {
    const { answer, receipt } = claim.record;
    return answer ? { kind: 'replayed', answer, receipt: receipt ?? {} } : { kind: 'answer_not_kept', receipt: receipt ?? {} };
  }
  // Used, or consumed (never charged: the buyer signs a new authorization, as without an identifier).
  return { kind: 'refused', reason: X402_REASONS.nonceAlreadyUsed };
}

interface Claimed {
  readonly payment: PaymentPayload;
  /** The advertised option this payment pays. */
  readonly requirement: PaymentRequirement;
  readonly payer: string;
  readonly key: string;
  /** The payer's ledger shard (`ledgerShard`). */
  readonly shard: string;
  readonly ledger: Ledger;
  readonly facilitatorBody: FacilitatorRequest;
  /** The payment's `payment-identifier`: its answer is kept for retries. */
  readonly identifier: string | undefined;
}

/**
 * The claim this request holds already refuses every other use of the authorization, so the
 * ledger's final state — `settled` with the tx hash, or `consumed` when the origin was reached
 * and nothing was settled — is written in the background once known. Only `pending` is written
 * before answering: its background resolution must be scheduled before the buyer hears "unknown".
 */
async function forwardAndSettle(request: Request, paid: PaidRoute, ctx: PaymentContext, c: Claimed): Promise<PaymentOutcome> {
  const consumed = () => ctx.waitUntil(bestEffort('consumed', () => c.ledger.consume(c.key)));

  // Step 6: the origin's final answer, within ORIGIN_TIMEOUT_MS.
  const origin = await forwardToOrigin({ request, payer: c.payer, env: ctx.env, originUrl: ctx.settings.originUrl, timeoutMs: ctx.settings.originTimeoutMs });
  ctx.trace('origin');
  if (origin.kind !== 'response') {
    consumed();
    return { kind: 'origin_failed', reason: origin.kind === 'timeout' ? 'origin_timeout' : origin.kind === 'invalid' ? 'origin_invalid_response' : 'origin_unreachable' };
  }
  const { response } = origin;
  if (!settlesOn(response.status)) {
    consumed();
    origin.deadline.clear();
    return { kind: 'origin_error', response };
  }
  const body = await readOriginBody(response, origin.deadline);
  if (!body.ok) {
    consumed();
    return { kind: 'origin_failed', reason: body.timedOut ? 'origin_timeout' : 'origin_unreachable' };
  }

  // Step 7: settle; the buyer gets the body only once the facilitator confirmed the payment.
  const settlement = await settlePayment({ facilitator: ctx.facilitator, request: c.facilitatorBody, payment: c.payment, requirement: c.requirement, payer: c.payer });
  ctx.trace('settle');
  const { outcome } = settlement;
  if (outcome.kind === 'success') {
    const receipt = settlement.receiptHeader ?? {};
    const { identifier } = c;
    if (identifier === undefined) queueSettled(ctx.env, ctx, c.shard, { key: c.key, transaction: outcome.transaction });
    // Kept before the answer leaves, so a retry after a lost answer always finds it.
    else await bestEffort('settled', () => c.ledger.settled(c.key, outcome.transaction, { id: identifier, record: { receipt, answer: answerToKeep(response, body.body) } }));
    return { kind: 'settled', response, body: body.body, receipt };
  }
  if (body.body instanceof ReadableStream) await body.body.cancel().catch(() => undefined);
  if (outcome.kind === 'failure') {
    consumed();
    return { kind: 'settlement_failed', reason: outcome.reason, receipt: settlement.receiptHeader ?? {} };
  }
  await bestEffort('pending', () => c.ledger.pending(c.key, JSON.stringify(c.facilitatorBody)));
  console.warn(JSON.stringify({ level: 'warn', msg: 'settlement outcome unknown; resolving in the background', detail: outcome.detail }));
  return { kind: 'settlement_unknown' };
}

/** Step 3: the payment answers one of our options and its authorization checks out against that option. */
async function checkLocally(payment: PaymentPayload, paid: PaidRoute, settings: GateSettings): Promise<(AuthorizationCheck & { ok: false }) | { ok: true; payer: string; requirement: PaymentRequirement }> {
  const selected = selectRequirement(payment, paid.options);
  if (!selected.ok) return selected;
  const { requirement } = selected;
  const checked = await checkAuthorization({
    payload: payment.payload,
    requirement,
    x402Version: payment.x402Version,
    nowSeconds: Math.floor(Date.now() / 1000),
    // Without a facilitator's /verify nobody could check a smart-wallet signature.
    acceptUnverifiedContractSignatures: settings.verifyMode === 'facilitator',
  });
  return checked.ok ? { ok: true, payer: checked.payer, requirement } : checked;
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
