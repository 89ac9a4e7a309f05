import { formatRfc3339, offerPath, type OfferDecision, type ServiceOffer, type UnpublishedReason } from '../../../core/index.js';
import type { z } from 'zod';
import type { ServiceOfferStatus } from '../../../core/offer.js';
import { readyCondition, stampConditions, type DesiredCondition } from './conditions.js';

/**
 * The whole controller decision (SPEC §7), controller-runtime style: a pure function of the planned
 * offer, what the agent observed (upstream health, the route, the edge's acknowledgement) and the
 * clock, to the desired status, the desired route state and when to look again.
 */

export type OfferStatus = z.infer<typeof ServiceOfferStatus>;

export interface HealthObservation {
  readonly healthy: boolean;
  /** e.g. `GET http://svc.ns.svc:8080/health answered 200`. */
  readonly message: string;
}

export interface ReconcileInput {
  /** This offer's decision from core `planCatalog` (covers invalid offers too). */
  readonly decision: OfferDecision;
  readonly generation: number | undefined;
  readonly previous: OfferStatus | undefined;
  /** undefined until the first probe finished. */
  readonly health: HealthObservation | undefined;
  /** Sequence of the last acknowledged snapshot that serves this offer, if any. */
  readonly acknowledgedSequence: number | undefined;
  readonly routeManagement: boolean;
  /** `namespace/name` of the HTTPRoute, for messages. */
  readonly routeName: string;
  /** Why applying or deleting the HTTPRoute just failed (the API server's message); absent when it did not. */
  readonly routeError?: string;
  /** The edge's public base URL, for `status.endpoint`. */
  readonly publicBaseUrl: string | undefined;
  readonly nowMs: number;
}

export interface ReconcileOutcome {
  readonly status: OfferStatus;
  /** False when `status` equals `previous`: the write is skipped. */
  readonly statusChanged: boolean;
  /** Whether the offer's HTTPRoute should exist (ignored with route management off). */
  readonly route: 'present' | 'absent';
  readonly requeueAfterMs?: number;
}

/** Re-look one second after the verdict's next transition (the drain's end) so `Draining` flips to `False/Drained` (SPEC §3). */
export const DRAIN_REQUEUE_SLACK_MS = 1000;

const INVALID = 'InvalidSpec';

/** A condition quotes the API server at most this long: a status stays small, and an unchanged failure writes nothing again. */
export const MAX_QUOTED_ERROR = 512;

function quoted(text: string): string {
  return text.length <= MAX_QUOTED_ERROR ? text : `${text.slice(0, MAX_QUOTED_ERROR - 1)}…`;
}

function upstreamCondition(d: OfferDecision, health: HealthObservation | undefined): DesiredCondition {
  if (d.invalid !== undefined) return { type: 'UpstreamHealthy', status: 'Unknown', reason: INVALID, message: 'not probed: the offer is invalid' };
  if (!health) return { type: 'UpstreamHealthy', status: 'Unknown', reason: 'Probing', message: 'waiting for the first health check' };
  return { type: 'UpstreamHealthy', status: health.healthy ? 'True' : 'False', reason: health.healthy ? 'Healthy' : 'Unhealthy', message: health.message };
}

/** The words of the status for the verdict's reason (core `publicationVerdict` picks it, in SPEC rule order). */
function reasonMessage(d: OfferDecision, reason: UnpublishedReason): string {
  switch (reason) {
    case 'InvalidSpec':
      return d.invalid ?? 'the offer is invalid';
    case 'PathConflict':
      return `the path is owned by ${d.pathConflictWith ?? 'an older offer'}`;
    case 'UpstreamUnhealthy':
      return 'the upstream is not healthy';
    case 'PaymentUnresolved':
      return d.payment && !d.payment.ok ? d.payment.message : 'the payment does not resolve';
    case 'RouteNotReady':
      return 'the HTTPRoute is not published yet';
    case 'Drained':
      return `the drain ended at ${d.schedule?.drainEndsAt ?? 'an earlier time'}`;
  }
}

function routeCondition(d: OfferDecision, input: ReconcileInput, path: string | undefined): DesiredCondition {
  const type = 'RoutePublished';
  if (!input.routeManagement) return { type, status: 'True', reason: 'RouteManagementDisabled', message: 'route management is off; the route is managed elsewhere' };
  const route = d.verdict.route;
  if (input.routeError !== undefined) {
    // A route left behind is said as plainly as one refused: the seller's gateway may still route it.
    return route.wanted
      ? { type, status: 'False', reason: 'RouteApplyFailed', message: `HTTPRoute ${input.routeName} could not be applied: ${quoted(input.routeError)}` }
      : { type, status: 'False', reason: 'RouteDeleteFailed', message: `HTTPRoute ${input.routeName} is not wanted (${reasonMessage(d, route.reason)}) but could not be deleted: ${quoted(input.routeError)}` };
  }
  if (d.observation.routePublished) return { type, status: 'True', reason: 'RoutePublished', message: `HTTPRoute ${input.routeName} routes ${path ?? ''}` };
  if (route.wanted) return { type, status: 'False', reason: 'RoutePending', message: `creating HTTPRoute ${input.routeName}` };
  return { type, status: 'False', reason: route.reason, message: `no HTTPRoute: ${reasonMessage(d, route.reason)}` };
}

function gateCondition(d: OfferDecision, acknowledgedSequence: number | undefined): DesiredCondition {
  const type = 'PaymentGateReady';
  if (!d.verdict.published) return { type, status: 'False', reason: d.verdict.reason, message: reasonMessage(d, d.verdict.reason) };
  if (acknowledgedSequence === undefined) {
    return { type, status: 'False', reason: 'AwaitingAcknowledgement', message: 'waiting for the edge to acknowledge a snapshot with this offer' };
  }
  return { type, status: 'True', reason: 'Acknowledged', message: `the edge acknowledged snapshot ${acknowledgedSequence} with this offer` };
}

function pathCondition(d: OfferDecision, path: string | undefined): DesiredCondition {
  const type = 'PathConflict';
  if (d.invalid !== undefined) return { type, status: 'Unknown', reason: INVALID, message: 'not checked: the offer is invalid' };
  if (d.pathConflictWith) return { type, status: 'True', reason: 'PathConflict', message: `path ${path ?? ''} is owned by ${d.pathConflictWith}, the older offer` };
  return { type, status: 'False', reason: 'PathOwned', message: `the offer owns path ${path ?? ''}` };
}

function drainingCondition(d: OfferDecision): DesiredCondition {
  const type = 'Draining';
  if (d.invalid !== undefined) return { type, status: 'Unknown', reason: INVALID, message: 'not evaluated: the offer is invalid' };
  if (d.verdict.phase === 'draining') return { type, status: 'True', reason: 'Draining', message: `Drain ends at ${d.schedule?.drainEndsAt ?? ''}` };
  if (d.verdict.phase === 'drained') return { type, status: 'False', reason: 'Drained', message: `Drain ended at ${d.schedule?.drainEndsAt ?? ''}` };
  return { type, status: 'False', reason: 'Active', message: 'the offer is not draining' };
}

function desiredConditions(input: ReconcileInput, path: string | undefined): DesiredCondition[] {
  const d = input.decision;
  const others = [
    upstreamCondition(d, input.health),
    routeCondition(d, input, path),
    gateCondition(d, input.acknowledgedSequence),
    pathCondition(d, path),
    drainingCondition(d),
  ];
  const ready: DesiredCondition =
    d.invalid !== undefined
      ? { type: 'Ready', status: 'False', reason: INVALID, message: `invalid ServiceOffer: ${d.invalid}` }
      : readyCondition(others);
  return [...others, ready];
}

/** Status equality that ignores key order and condition order. */
export function sameStatus(a: OfferStatus | undefined, b: OfferStatus): boolean {
  const canonical = (s: OfferStatus | undefined) =>
    JSON.stringify({
      observedGeneration: s?.observedGeneration ?? null,
      drainEndsAt: s?.drainEndsAt ?? null,
      endpoint: s?.endpoint ?? null,
      conditions: [...(s?.conditions ?? [])]
        .sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : 0))
        .map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime, c.observedGeneration ?? null]),
    });
  return canonical(a) === canonical(b);
}

export function reconcileOffer(input: ReconcileInput): ReconcileOutcome {
  const d = input.decision;
  const offer: ServiceOffer | undefined = d.offer;
  const path = offer ? offerPath(offer) : undefined;
  const now = formatRfc3339(input.nowMs);
  const conditions = stampConditions(desiredConditions(input, path), input.previous?.conditions, { now, generation: input.generation });
  const status: OfferStatus = {
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    conditions,
    ...(d.schedule ? { drainEndsAt: d.schedule.drainEndsAt } : {}),
    ...(path && input.publicBaseUrl ? { endpoint: `${input.publicBaseUrl}${path}` } : {}),
  };
  const transitionMs = d.verdict.nextTransitionMs;
  return {
    status,
    statusChanged: !sameStatus(input.previous, status),
    route: d.verdict.route.wanted ? 'present' : 'absent',
    ...(transitionMs !== undefined ? { requeueAfterMs: Math.max(0, transitionMs + DRAIN_REQUEUE_SLACK_MS - input.nowMs) } : {}),
  };
}
