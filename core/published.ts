import { drainPhase } from './drain.js';

/**
 * SPEC §2 "Published": the one rule that decides whether an offer is served, used by the
 * publisher, the agent and the edge alike.
 */
export interface PublicationFacts {
  /** Schema and cross-field rules pass and the offer owns its path. */
  readonly valid: boolean;
  readonly upstreamHealthy: boolean;
  readonly paymentResolved: boolean;
  /** Route published ∨ route management off ∨ `dir:` source; see `routeReady`. */
  readonly routeReady: boolean;
  /** Epoch ms the drain ends, when `drainAt` is set. */
  readonly drainEndsAtMs?: number;
}

export function routeReady(facts: { routePublished: boolean; routeManagement: boolean; source: 'kube' | 'dir' }): boolean {
  return facts.routePublished || !facts.routeManagement || facts.source === 'dir';
}

export function isPublished(facts: PublicationFacts, nowMs: number): boolean {
  return (
    facts.valid &&
    facts.upstreamHealthy &&
    facts.paymentResolved &&
    facts.routeReady &&
    drainPhase(facts.drainEndsAtMs, nowMs) !== 'drained'
  );
}
