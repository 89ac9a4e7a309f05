import { snapshotVerdict } from '../offer-state.js';
import type { PaymentRequirement } from '../requirement.js';
import type { CatalogSnapshot, SnapshotOffer } from '../snapshot.js';

/**
 * The offers every discovery document lists at an instant (SPEC §4): published ones only (active or
 * draining by the caller's clock), in (namespace, name) order whatever the snapshot's order.
 */
export interface ListedOffer {
  readonly offer: SnapshotOffer;
  /** Always present for a published offer; narrowed here so renderers need no re-check. */
  readonly requirement: PaymentRequirement;
  /** The deadline a document advertises: present iff the offer is draining (absent when active). */
  readonly drainEndsAt?: string;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byNamespaceThenName(a: SnapshotOffer, b: SnapshotOffer): number {
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

export function listedOffers(snapshot: Pick<CatalogSnapshot, 'offers'>, nowMs: number): ListedOffer[] {
  const listed: ListedOffer[] = [];
  for (const offer of [...snapshot.offers].sort(byNamespaceThenName)) {
    const verdict = snapshotVerdict(offer, nowMs);
    if (!verdict.published || !offer.requirement) continue;
    const draining = verdict.phase === 'draining' && offer.drainEndsAt !== undefined;
    listed.push({ offer, requirement: offer.requirement, ...(draining ? { drainEndsAt: offer.drainEndsAt } : {}) });
  }
  return listed;
}

/** `baseUrl` (no trailing slash) + an offer path or document path. */
export function absoluteUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
