import type { PaymentRequirement } from '../../../core/requirement.js';
import type { SnapshotOffer } from '../../../core/snapshot.js';
import type { KeptAnswer } from './payment-identifiers.js';

/**
 * Every decision the gate can reach, as values: `routes.ts` finds the offer (a `RouteOutcome`),
 * `pipeline.ts` runs SPEC §5's payment steps (a `PaymentOutcome`), and `answers.ts` maps each
 * outcome to its HTTP status, headers, body and metric events in one table.
 */

/** The paid route a request is for: where the catalog is, the offer, and whether it drains. */
export interface RouteContext {
  readonly baseUrl: string;
  readonly offer: SnapshotOffer;
  readonly draining: boolean;
}

/** A route whose offer takes payments: what it demands and the absolute URL being bought. */
export interface PaidRoute {
  readonly route: RouteContext;
  /** The offer's first option: the one the 402's cache and single-option readers key on. */
  readonly requirement: PaymentRequirement;
  /** Every way to pay, `requirement` first, in the seller's order (built once per offer per catalog view). */
  readonly options: readonly [PaymentRequirement, ...PaymentRequirement[]];
  readonly resourceUrl: string;
}

/** Decided before any payment step, from the path and the catalog alone. */
export type RouteOutcome =
  | { readonly kind: 'invalid_path' }
  | { readonly kind: 'catalog_unavailable' }
  | { readonly kind: 'offer_not_found'; readonly path: string }
  | { readonly kind: 'offer_drained'; readonly route: RouteContext }
  | { readonly kind: 'offer_unavailable'; readonly route: RouteContext }
  | { readonly kind: 'preflight'; readonly route: RouteContext };

export type OriginFailure = 'origin_timeout' | 'origin_unreachable' | 'origin_invalid_response';

/** Where a paid request's steps ended, in SPEC §5's order. */
export type PaymentOutcome =
  /** Step 1: no payment header. */
  | { readonly kind: 'payment_required' }
  /** Step 2: the header does not decode, parse or fit its version. */
  | { readonly kind: 'invalid_payment_header'; readonly message: string; readonly reason: string }
  /** Steps 3–5: refused locally, by the ledger (a replay) or by the facilitator's /verify. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** Step 4: the authorization's settlement is still being resolved; it is never forwarded again. */
  | { readonly kind: 'authorization_pending' }
  /** Step 4, `payment-identifier`: the identifier names another payment (or this payment sent for another request). */
  | { readonly kind: 'identifier_conflict' }
  /** Step 4, `payment-identifier`: the same payment again while its first request is still being served. */
  | { readonly kind: 'payment_in_progress' }
  /** Step 4, `payment-identifier`: the same payment again after it settled; its kept answer, never a second settlement. */
  | { readonly kind: 'replayed'; readonly answer: KeptAnswer; readonly receipt: Record<string, string> }
  /** Step 4, `payment-identifier`: the same payment again after it settled, its answer not kept (a stream, or over the bound). */
  | { readonly kind: 'answer_not_kept'; readonly receipt: Record<string, string> }
  /** Step 5: /verify failed to answer; the claim was given back. */
  | { readonly kind: 'facilitator_unreachable' }
  /** Step 6: no usable answer from the origin; nothing settled. */
  | { readonly kind: 'origin_failed'; readonly reason: OriginFailure }
  /** Step 6: the origin answered ≥ 400 (or a non-final status): passed on, never settled. */
  | { readonly kind: 'origin_error'; readonly response: Response }
  /** Step 7: settled; the origin's answer goes to the buyer with the receipt. */
  | { readonly kind: 'settled'; readonly response: Response; readonly body: BodyInit | null; readonly receipt: Record<string, string> }
  /** Step 7: /settle said no; the body is withheld and a failure receipt sent. */
  | { readonly kind: 'settlement_failed'; readonly reason: string; readonly receipt: Record<string, string> }
  /** Step 7: /settle's outcome is unknown; resolved in the background, never settled again. */
  | { readonly kind: 'settlement_unknown' };

export type GateOutcome = RouteOutcome | PaymentOutcome;
