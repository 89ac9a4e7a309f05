import { GATE_REASONS } from '../../../core/x402/reasons.js';
import type { GateEvent } from '../metrics/recorder.js';
import type { PaidRoute, PaymentOutcome, RouteOutcome } from './outcomes.js';
import { MAX_KEPT_ANSWER_BYTES } from './payment-identifiers.js';
import { prefersHtml } from '../pages/accept.js';
import { challengeResponse, jsonResponse, passThrough, paywallResponse, preflightResponse } from './responses.js';

/**
 * The one table from the gate's outcomes to HTTP: status, headers and body for each, and for the
 * payment outcomes the metric events they count (SPEC §8) with the reason recorded on failure.
 */
type RouteRow<O> = (outcome: O, request: Request) => Response;

interface PaymentRow<O> {
  /** Counted after `request`, which every payment outcome counts. */
  readonly events: readonly GateEvent[];
  /** The `reason` label of `payment_failed`. */
  readonly reason?: (outcome: O) => string;
  readonly answer: (outcome: O, paid: PaidRoute, request: Request) => Response;
}

type Of<U, K> = Extract<U, { kind: K }>;

const ROUTE_ANSWERS: { [K in RouteOutcome['kind']]: RouteRow<Of<RouteOutcome, K>> } = {
  invalid_path: () => jsonResponse(400, { error: 'invalid_path' }),
  catalog_unavailable: () => jsonResponse(503, { error: 'catalog_unavailable' }),
  offer_not_found: (o) => jsonResponse(404, { error: 'offer_not_found', path: o.path }),
  offer_drained: (o) => jsonResponse(410, { error: 'offer_drained', drainEndsAt: o.route.offer.drainEndsAt }, o.route),
  offer_unavailable: (o) => jsonResponse(503, { error: 'offer_unavailable' }, o.route),
  preflight: (o, request) => preflightResponse(request, o.route),
};

const VARY_ACCEPT = { Vary: 'Accept' } as const;
const facilitatorUnreachable = GATE_REASONS.facilitatorUnreachable;
const settlementUnknown = GATE_REASONS.settlementUnknown;
const unknownSettlement = (paid: PaidRoute) => jsonResponse(503, { error: 'settlement_unknown', reason: settlementUnknown, retriable: false }, paid.route);
const { paymentIdentifierConflict, paymentInProgress, paymentAnswerNotKept } = GATE_REASONS;

const PAYMENT_ANSWERS: { [K in PaymentOutcome['kind']]: PaymentRow<Of<PaymentOutcome, K>> } = {
  payment_required: {
    events: ['payment_required'],
    // SPEC §5 "People and retries": a browser gets the same 402 as a page, every other client today's JSON; caches keep them apart.
    answer: (_, paid, request) =>
      (prefersHtml(request.headers.get('Accept')) ? paywallResponse : challengeResponse)(paid.route, paid.requirement, paid.resourceUrl, 'payment_required', VARY_ACCEPT),
  },
  invalid_payment_header: {
    events: ['payment_failed'],
    reason: (o) => o.reason,
    answer: (o, paid) => jsonResponse(400, { error: o.message, reason: o.reason }, paid.route),
  },
  refused: {
    events: ['payment_failed', 'payment_required'],
    reason: (o) => o.reason,
    answer: (o, paid) => challengeResponse(paid.route, paid.requirement, paid.resourceUrl, o.reason),
  },
  authorization_pending: {
    events: ['payment_failed'],
    reason: () => settlementUnknown,
    answer: (_, paid) => unknownSettlement(paid),
  },
  identifier_conflict: {
    events: ['payment_failed'],
    reason: () => paymentIdentifierConflict,
    answer: (_, paid) => jsonResponse(409, {
      error: paymentIdentifierConflict, reason: paymentIdentifierConflict, retriable: false,
      detail: 'this payment identifier names another payment (or this payment sent for another request); pay under a new identifier',
    }, paid.route),
  },
  payment_in_progress: {
    events: ['payment_failed'],
    reason: () => paymentInProgress,
    answer: (_, paid) => jsonResponse(409, { error: paymentInProgress, reason: paymentInProgress, retriable: true }, paid.route, { 'Retry-After': '1' }),
  },
  replayed: {
    // Not a new payment: only `request` is counted.
    events: [],
    answer: (o, paid) => passThrough(new Response(null, { status: o.answer.status, headers: o.answer.headers }), paid.route, o.answer.body, o.receipt),
  },
  answer_not_kept: {
    events: ['payment_failed'],
    reason: () => paymentAnswerNotKept,
    answer: (o, paid) => jsonResponse(409, {
      error: paymentAnswerNotKept, reason: paymentAnswerNotKept, retriable: false,
      detail: `this payment settled and its answer was sent; a stream or an answer over ${MAX_KEPT_ANSWER_BYTES / (1024 * 1024)} MiB is not kept for retries`,
    }, paid.route, o.receipt),
  },
  facilitator_unreachable: {
    events: ['payment_failed'],
    reason: () => facilitatorUnreachable,
    answer: (_, paid) => jsonResponse(503, { error: 'facilitator_unreachable', reason: facilitatorUnreachable, retriable: true }, paid.route),
  },
  origin_failed: {
    events: ['payment_verified', 'payment_failed'],
    reason: (o) => o.reason,
    answer: (o, paid) => jsonResponse(o.reason === 'origin_timeout' ? 504 : 502, { error: o.reason }, paid.route),
  },
  origin_error: {
    events: ['payment_verified', 'payment_failed'],
    reason: () => 'origin_error',
    answer: (o, paid) => passThrough(o.response, paid.route, o.response.body),
  },
  settled: {
    events: ['payment_verified', 'charged'],
    answer: (o, paid) => passThrough(o.response, paid.route, o.body, o.receipt),
  },
  settlement_failed: {
    events: ['payment_verified', 'payment_failed', 'payment_required'],
    reason: (o) => o.reason,
    answer: (o, paid) => challengeResponse(paid.route, paid.requirement, paid.resourceUrl, o.reason, o.receipt),
  },
  settlement_unknown: {
    events: ['payment_verified', 'payment_failed'],
    reason: () => settlementUnknown,
    answer: (_, paid) => unknownSettlement(paid),
  },
};

export function answerRoute(outcome: RouteOutcome, request: Request): Response {
  const row = ROUTE_ANSWERS[outcome.kind] as RouteRow<RouteOutcome>;
  return row(outcome, request);
}

/** The answer to a payment outcome, after counting its events through `record`. */
export function answerPayment(outcome: PaymentOutcome, paid: PaidRoute, request: Request, record: (event: GateEvent, reason?: string) => void): Response {
  const row = PAYMENT_ANSWERS[outcome.kind] as PaymentRow<PaymentOutcome>;
  record('request');
  const reason = row.reason?.(outcome);
  for (const event of row.events) record(event, event === 'payment_failed' ? reason : undefined);
  return row.answer(outcome, paid, request);
}
