import { parseRfc3339 } from './time.js';
import { publicationVerdict, type PublicationFacts, type PublicationVerdict } from './published.js';
import type { SnapshotOffer } from './snapshot.js';

/**
 * What a snapshot entry is at a given instant, by the caller's clock (SPEC §3, §5): the edge
 * evaluates drain deadlines itself, so an offer drains out on time with no new push.
 * - `active` / `draining`: published; the route charges and the documents list it.
 * - `drained`: 410 on its route, absent from every document.
 * - `unavailable`: in the snapshot but not published (e.g. unhealthy): 503 on its route.
 */
export type OfferState = 'active' | 'draining' | 'drained' | 'unavailable';

export function drainEndsAtMs(offer: Pick<SnapshotOffer, 'drainEndsAt'>): number | undefined {
  return offer.drainEndsAt === undefined ? undefined : parseRfc3339(offer.drainEndsAt);
}

/** The facts a snapshot entry carries. It is valid: the agent leaves invalid and path-conflicting offers out. */
export function snapshotFacts(offer: Pick<SnapshotOffer, 'upstreamHealthy' | 'requirement' | 'routeReady' | 'drainEndsAt'>): PublicationFacts {
  const endsAt = drainEndsAtMs(offer);
  return {
    upstreamHealthy: offer.upstreamHealthy,
    paymentResolved: offer.requirement !== undefined,
    routeReady: offer.routeReady,
    ...(endsAt !== undefined ? { drainEndsAtMs: endsAt } : {}),
  };
}

/** The publication verdict on a snapshot entry at `nowMs` (core `publicationVerdict`). */
export function snapshotVerdict(offer: SnapshotOffer, nowMs: number): PublicationVerdict {
  return publicationVerdict(snapshotFacts(offer), nowMs);
}

/** A drained offer answers 410 whatever else fails (its path stays known); otherwise published or 503. */
export function offerStateAt(offer: SnapshotOffer, nowMs: number): OfferState {
  const verdict = snapshotVerdict(offer, nowMs);
  if (verdict.phase === 'drained') return 'drained';
  return verdict.published ? verdict.phase : 'unavailable';
}
