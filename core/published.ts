import { drainPhase, type DrainPhase } from './drain.js';

/**
 * SPEC §2 "Published" = valid ∧ UpstreamHealthy ∧ payment resolves ∧ route ready ∧ not drained.
 * `publicationVerdict` is the one place that decides it, for the publisher, the agent (status,
 * HTTPRoute, requeue) and the edge (documents, gate): published or not, the first rule that fails,
 * whether the HTTPRoute is wanted, and when the clock alone can next change the answer.
 */

/** The rules of SPEC §2 in their order, named for what fails; an offer's reason is the first it fails. */
export type UnpublishedReason = 'InvalidSpec' | 'PathConflict' | 'UpstreamUnhealthy' | 'PaymentUnresolved' | 'RouteNotReady' | 'Drained';

/** The failures that take the HTTPRoute down; an unhealthy upstream keeps its route so it can recover. */
export type RouteDownReason = Extract<UnpublishedReason, 'InvalidSpec' | 'PathConflict' | 'PaymentUnresolved' | 'Drained'>;

export interface PublicationFacts {
  /** Why the offer is not valid: its spec fails the rules, or an older offer owns its path. Absent when valid. */
  readonly invalid?: Extract<UnpublishedReason, 'InvalidSpec' | 'PathConflict'>;
  readonly upstreamHealthy: boolean;
  readonly paymentResolved: boolean;
  /** Route published ∨ route management off ∨ `dir:` source; see `routeReady`. */
  readonly routeReady: boolean;
  /** Epoch ms the drain ends, when `drainAt` is set. */
  readonly drainEndsAtMs?: number;
}

export type RouteVerdict = { readonly wanted: true } | { readonly wanted: false; readonly reason: RouteDownReason };

interface VerdictAtInstant {
  readonly phase: DrainPhase;
  readonly route: RouteVerdict;
  /** The first instant after `nowMs` at which the clock alone changes the verdict; undefined when none. */
  readonly nextTransitionMs: number | undefined;
}

export type PublicationVerdict =
  | (VerdictAtInstant & { readonly published: true; readonly phase: 'active' | 'draining'; readonly route: { readonly wanted: true } })
  | (VerdictAtInstant & { readonly published: false; readonly reason: UnpublishedReason });

export class InvalidInstantError extends Error {
  readonly reason = 'invalid_instant';
  constructor(
    readonly field: string,
    readonly value: number,
  ) {
    super(`${field} must be a finite epoch-ms instant, not ${value}`);
    this.name = 'InvalidInstantError';
  }
}

export function routeReady(facts: { routePublished: boolean; routeManagement: boolean; source: 'kube' | 'dir' }): boolean {
  return facts.routePublished || !facts.routeManagement || facts.source === 'dir';
}

/**
 * The instants at which the verdict changes by the clock alone, ascending: the drain's end. The drain
 * has no start of its own: an offer drains from the moment `drainAt` is set (SPEC §3).
 */
export function clockTransitions(facts: Pick<PublicationFacts, 'drainEndsAtMs'>): readonly number[] {
  return facts.drainEndsAtMs === undefined ? [] : [facts.drainEndsAtMs];
}

function routeDownReason(facts: PublicationFacts, phase: DrainPhase): RouteDownReason | undefined {
  if (facts.invalid !== undefined) return facts.invalid;
  if (!facts.paymentResolved) return 'PaymentUnresolved';
  if (phase === 'drained') return 'Drained';
  return undefined;
}

/** The first rule before the drain's that fails. A route taken down on purpose is not a route failure: its cause is. */
function failsBeforeDrain(facts: PublicationFacts, route: RouteVerdict): UnpublishedReason | undefined {
  if (facts.invalid !== undefined) return facts.invalid;
  if (!facts.upstreamHealthy) return 'UpstreamUnhealthy';
  if (!facts.paymentResolved) return 'PaymentUnresolved';
  if (!facts.routeReady && route.wanted) return 'RouteNotReady';
  return undefined;
}

function assertInstant(field: string, value: number): void {
  if (!Number.isFinite(value)) throw new InvalidInstantError(field, value);
}

/** The verdict on an offer at `nowMs`. Throws `InvalidInstantError` for a non-finite instant. */
export function publicationVerdict(facts: PublicationFacts, nowMs: number): PublicationVerdict {
  assertInstant('nowMs', nowMs);
  if (facts.drainEndsAtMs !== undefined) assertInstant('drainEndsAtMs', facts.drainEndsAtMs);
  const phase = drainPhase(facts.drainEndsAtMs, nowMs);
  const down = routeDownReason(facts, phase);
  const route: RouteVerdict = down === undefined ? { wanted: true } : { wanted: false, reason: down };
  const nextTransitionMs = clockTransitions(facts).find((at) => at > nowMs);
  const failed = failsBeforeDrain(facts, route);
  if (failed !== undefined) return { published: false, reason: failed, phase, route, nextTransitionMs };
  if (phase === 'drained') return { published: false, reason: 'Drained', phase, route, nextTransitionMs };
  return { published: true, phase, route: { wanted: true }, nextTransitionMs };
}
