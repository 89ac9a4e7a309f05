import { drainSchedule, type DrainSchedule } from './drain.js';
import { offerKey, offerPath, type ServiceOffer } from './offer.js';
import { describeProblems, type OfferParseResult } from './offer-rules.js';
import { resolvePathConflicts } from './paths.js';
import { publicationVerdict, routeReady, type PublicationFacts, type PublicationVerdict } from './published.js';
import { offerDescription, resolvePayment, type PaymentResolution } from './requirement.js';
import type { SnapshotOffer } from './snapshot.js';
import type { RouteApi } from './offer-api.js';
import type { BazaarDeclaration } from './x402/bazaar.js';

/**
 * From parsed offers and what the agent observed of them, decide what is published and build the
 * snapshot entries (SPEC §2, §6). Pure: the publisher and the agent both call it.
 */

export interface OfferObservation {
  readonly upstreamHealthy: boolean;
  /** The offer's HTTPRoute exists (kube source with route management). */
  readonly routePublished: boolean;
}

export interface PlanInput {
  /** `namespace/name` (known even for offers that fail the schema, from their metadata). */
  readonly key: string;
  readonly parsed: OfferParseResult;
  /** The manifest file that defines the offer (`dir:` source and the publisher), for messages. */
  readonly file?: string;
}

export interface PlanParams {
  readonly offers: readonly PlanInput[];
  readonly observe: (key: string) => OfferObservation;
  readonly routeManagement: boolean;
  readonly source: 'kube' | 'dir';
  readonly nowMs: number;
  /**
   * Builds an offer's Bazaar declaration from its `spec.api` (the agent passes the @x402/extensions
   * builder, which the edge's bundle cannot hold); without it entries carry no declaration.
   */
  readonly declareBazaar?: (api: RouteApi) => BazaarDeclaration;
}

export interface OfferDecision {
  readonly key: string;
  readonly offer?: ServiceOffer;
  /** Set when the offer fails validation; a readable message for a condition. */
  readonly invalid?: string;
  /**
   * Set when the snapshot schema refused the offer's entry (why, field by field): the offer is left
   * out and `invalid` says so, while every other offer is still published.
   */
  readonly uncarried?: string;
  /** Key of the older offer that owns this offer's path. */
  readonly pathConflictWith?: string;
  readonly payment?: PaymentResolution;
  readonly schedule?: DrainSchedule;
  readonly observation: OfferObservation;
  readonly routeReady: boolean;
  /** Published or why not, the route, the drain phase, at the plan's clock (core `publicationVerdict`). */
  readonly verdict: PublicationVerdict;
  /** The snapshot entry; absent for invalid and path-conflicting offers. */
  readonly entry?: SnapshotOffer;
}

export interface CatalogPlan {
  /** The instant the plan's verdicts are for. */
  readonly nowMs: number;
  /** One per input, in (namespace, name) order. */
  readonly decisions: readonly OfferDecision[];
  /** Snapshot entries in (namespace, name) order. */
  readonly offers: readonly SnapshotOffer[];
}

function byNamespaceThenName(a: { key: string }, b: { key: string }): number {
  const [an = '', bn = ''] = [a.key.split('/')[0], b.key.split('/')[0]];
  if (an !== bn) return an < bn ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function createdMs(offer: ServiceOffer): number {
  const ms = offer.metadata.creationTimestamp ? Date.parse(offer.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** The publication facts of a decision: what `publicationVerdict` judges. */
function decisionFacts(d: Omit<OfferDecision, 'entry' | 'verdict'>): PublicationFacts {
  const invalid = d.invalid !== undefined ? 'InvalidSpec' : d.pathConflictWith !== undefined ? 'PathConflict' : undefined;
  return {
    ...(invalid ? { invalid } : {}),
    upstreamHealthy: d.observation.upstreamHealthy,
    paymentResolved: d.payment?.ok === true,
    routeReady: d.routeReady,
    ...(d.schedule ? { drainEndsAtMs: d.schedule.drainEndsAtMs } : {}),
  };
}

function judged<D extends Omit<OfferDecision, 'entry' | 'verdict'>>(d: D, nowMs: number): D & { verdict: PublicationVerdict } {
  return { ...d, verdict: publicationVerdict(decisionFacts(d), nowMs) };
}

function snapshotEntry(offer: ServiceOffer, decision: Omit<OfferDecision, 'entry'>, declareBazaar: PlanParams['declareBazaar']): SnapshotOffer {
  const { spec, metadata } = offer;
  const payment = decision.payment;
  const resolved = payment?.ok ? payment : undefined;
  const registration = spec.registration?.enabled ? spec.registration : undefined;
  const price = resolved?.price ?? { raw: '0', unit: 'perRequest' as const };
  return {
    key: decision.key,
    namespace: metadata.namespace,
    name: metadata.name,
    path: offerPath(offer),
    type: spec.type,
    ...(spec.model ? { model: spec.model.name } : {}),
    description: offerDescription(spec),
    network: spec.payment.network,
    price: {
      raw: price.raw,
      unit: price.unit,
      display: resolved?.display ?? 'unpriced',
      ...(price.tokensPerRequest !== undefined ? { tokensPerRequest: price.tokensPerRequest } : {}),
      ...(price.minutesPerRequest !== undefined ? { minutesPerRequest: price.minutesPerRequest } : {}),
    },
    ...(resolved ? { requirement: resolved.requirement } : {}),
    ...(resolved?.alternatives.length ? { alternatives: [...resolved.alternatives] } : {}),
    upstreamHealthy: decision.observation.upstreamHealthy,
    routeReady: decision.routeReady,
    ...(decision.schedule ? { drainAt: decision.schedule.drainAt, drainEndsAt: decision.schedule.drainEndsAt } : {}),
    ...(registration?.skills?.length ? { skills: registration.skills } : {}),
    ...(registration
      ? {
          registration: {
            ...(registration.name !== undefined ? { name: registration.name } : {}),
            ...(registration.description !== undefined ? { description: registration.description } : {}),
            ...(registration.image !== undefined ? { image: registration.image } : {}),
            services: registration.services ?? [],
            ...(registration.skills?.length ? { skills: registration.skills } : {}),
            ...(registration.domains?.length ? { domains: registration.domains } : {}),
            ...(registration.supportedTrust?.length ? { supportedTrust: registration.supportedTrust } : {}),
          },
        }
      : {}),
    ...(spec.api ? { api: spec.api, ...(declareBazaar ? { bazaar: declareBazaar(spec.api) } : {}) } : {}),
  };
}

export function planCatalog(params: PlanParams): CatalogPlan {
  const inputs = [...params.offers].sort(byNamespaceThenName);
  const valid = inputs.flatMap((input) => (input.parsed.ok ? [{ key: input.key, offer: input.parsed.offer }] : []));
  const losers = resolvePathConflicts(valid.map(({ key, offer }) => ({ key, path: offerPath(offer), createdMs: createdMs(offer) })));

  const decisions: OfferDecision[] = inputs.map((input) => {
    const observation = params.observe(input.key);
    const ready = routeReady({ routePublished: observation.routePublished, routeManagement: params.routeManagement, source: params.source });
    if (!input.parsed.ok) {
      return judged({ key: input.key, invalid: describeProblems(input.parsed.problems), observation, routeReady: ready }, params.nowMs);
    }
    const offer = input.parsed.offer;
    const schedule = drainSchedule(offer.spec);
    const pathConflictWith = losers.get(input.key);
    const decision = judged(
      {
        key: input.key,
        offer,
        ...(pathConflictWith ? { pathConflictWith } : {}),
        payment: resolvePayment(offer.spec),
        ...(schedule ? { schedule } : {}),
        observation,
        routeReady: ready,
      },
      params.nowMs,
    );
    return pathConflictWith ? decision : { ...decision, entry: snapshotEntry(offer, decision, params.declareBazaar) };
  });
  return { nowMs: params.nowMs, decisions, offers: decisions.flatMap((d) => (d.entry ? [d.entry] : [])) };
}

/**
 * The decision for an offer whose entry the snapshot schema refuses (`reason`): left out of the
 * snapshot and unpublished, and, as `invalid`, shown in its status. Validation should make this
 * impossible; it keeps one offer from stopping the whole catalog when it does not.
 */
export function uncarriedDecision(decision: OfferDecision, reason: string, nowMs: number): OfferDecision {
  const { entry: _entry, verdict: _verdict, ...rest } = decision;
  return judged({ ...rest, invalid: `the snapshot cannot carry this offer: ${reason}`, uncarried: reason }, nowMs);
}

/** The plan with every entry `problemOf` refuses left out, its decision saying why (`uncarriedDecision`). */
export function carryPlan(plan: CatalogPlan, problemOf: (entry: SnapshotOffer) => string | undefined): CatalogPlan {
  const decisions = plan.decisions.map((d) => {
    const problem = d.entry && problemOf(d.entry);
    return problem ? uncarriedDecision(d, problem, plan.nowMs) : d;
  });
  return { nowMs: plan.nowMs, decisions, offers: decisions.flatMap((d) => (d.entry ? [d.entry] : [])) };
}

/** The key of a raw manifest, for offers that fail the schema. */
export function rawOfferKey(value: unknown, fallback: string): string {
  const meta = (value as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : fallback;
  const namespace = typeof meta?.namespace === 'string' ? meta.namespace : 'default';
  return offerKey({ namespace, name });
}
