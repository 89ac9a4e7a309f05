import { drainPhase } from './drain.js';
import { parseRfc3339 } from './time.js';
import { isPublished } from './published.js';
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

export function offerStateAt(offer: SnapshotOffer, nowMs: number): OfferState {
  const endsAt = drainEndsAtMs(offer);
  const phase = drainPhase(endsAt, nowMs);
  if (phase === 'drained') return 'drained';
  const published = isPublished(
    {
      valid: true, // it is in the snapshot: the agent validated it and it owns its path
      upstreamHealthy: offer.upstreamHealthy,
      paymentResolved: offer.requirement !== undefined,
      routeReady: offer.routeReady,
      ...(endsAt !== undefined ? { drainEndsAtMs: endsAt } : {}),
    },
    nowMs,
  );
  if (!published) return 'unavailable';
  return phase;
}

/**
 * The next instant after `nowMs` at which any offer changes phase, or undefined. Caches keyed on
 * the catalog must be rebuilt at that instant; `Cache-Control` must not reach past it.
 */
export function nextTransitionMs(offers: readonly SnapshotOffer[], nowMs: number): number | undefined {
  let next: number | undefined;
  for (const offer of offers) {
    const endsAt = drainEndsAtMs(offer);
    if (endsAt !== undefined && endsAt > nowMs && (next === undefined || endsAt < next)) next = endsAt;
  }
  return next;
}
