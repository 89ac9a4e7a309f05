import { offerPath, planCatalog, uncarriedDecision, type OfferDecision, type PlanInput, type SnapshotOffer } from '../../../core/index.js';
import { declareBazaar } from '../discovery/bazaar-declaration.js';
import { jsonEqual } from '../../../core/json-equal.js';
import { snapshotEntryProblem } from '../publish/snapshot.js';
import type { OfferSource } from '../sources/source.js';
import type { HealthProber } from './health.js';
import type { Logger } from './log.js';

/**
 * The whole-catalog plan (core `planCatalog`) kept between controller batches. Paths are unique
 * across offers, so one offer's decision can depend on another's and planning stays whole-catalog;
 * but it runs again only when an input changed: a source record's parsed offer (compared by
 * identity: the sources keep an unchanged offer's object) or deletion, a health result or a route
 * (`invalidate`), or some offer's verdict reached its next transition (a drain ended). At 10,000
 * offers a plan costs a few hundred ms and allocates a copy of every decision and snapshot entry,
 * so status-only events must not trigger it.
 *
 * A new entry the snapshot schema refuses leaves its offer out (one offer must never stop the
 * catalog), and why an offer is left out or unpriced is logged once per reason (`log`).
 */

export interface PlannerOptions {
  readonly source: Pick<OfferSource, 'kind' | 'records'>;
  readonly prober: Pick<HealthProber, 'sync' | 'get'>;
  readonly routeManagement: boolean;
  /** Whether the offer's HTTPRoute is known to exist. */
  readonly routePublished: (key: string) => boolean;
  /** Where to say, once per reason, why an offer is left out or unpriced; silent without one. */
  readonly log?: Logger;
}

export interface PlanOutcome {
  readonly decisions: ReadonlyMap<string, OfferDecision>;
  /** Snapshot entries in (namespace, name) order. */
  readonly offers: readonly SnapshotOffer[];
  /** True when this call planned again; the fields below are only meaningful then. */
  readonly fresh: boolean;
  /** Keys whose decision differs from the previous plan's (every key on the first plan). */
  readonly changed: readonly string[];
  /** Some valid offer has not had its first health probe yet. */
  readonly unprobed: boolean;
}

/**
 * A decision is a pure function of the offer, its observation, its path ownership and its drain
 * phase (route management and the source kind are fixed): with all four unchanged it is unchanged.
 */
function sameFacts(before: OfferDecision, after: OfferDecision): boolean {
  return (
    before.observation.upstreamHealthy === after.observation.upstreamHealthy &&
    before.observation.routePublished === after.observation.routePublished &&
    before.pathConflictWith === after.pathConflictWith &&
    before.verdict.phase === after.verdict.phase
  );
}

/**
 * Why the offer itself keeps it from being published, as a log line naming it and its file; undefined
 * when nothing in the offer does. The verdict's route reason names the offer's own fault whatever its
 * health (its own faults take the route down); health, the route and a drain are not its fault.
 */
function leftOutBecause(d: OfferDecision, file: string | undefined): { msg: string; fields: Record<string, unknown> } | undefined {
  const route = d.verdict.route;
  if (route.wanted) return undefined;
  const where = file === undefined ? '' : ` (file ${file})`;
  const said = (msg: string, reason: string, problem: string) => ({ msg, fields: { offer: d.key, ...(file === undefined ? {} : { file }), reason, problem } });
  switch (route.reason) {
    case 'InvalidSpec':
      if (d.uncarried !== undefined) return said(`snapshot cannot carry ${d.key}${where}: ${d.uncarried}`, 'SnapshotRefused', d.uncarried);
      return said(`invalid ServiceOffer ${d.key}${where}: ${d.invalid ?? ''}`, 'InvalidSpec', d.invalid ?? '');
    case 'PathConflict': {
      const problem = `its path ${d.offer ? offerPath(d.offer) : ''} is owned by ${d.pathConflictWith ?? ''}, the older offer`;
      return said(`${d.key}${where} is not published: ${problem}`, 'PathConflict', problem);
    }
    case 'PaymentUnresolved':
      return d.payment && !d.payment.ok ? said(`${d.key}${where} is not published: ${d.payment.message}`, d.payment.reason, d.payment.message) : undefined;
    case 'Drained':
      return undefined;
  }
}

/** Whether a decision changed in anything the status, the route or the snapshot shows. */
function decisionChanged(before: OfferDecision, after: OfferDecision): boolean {
  return (
    before.invalid !== after.invalid ||
    before.pathConflictWith !== after.pathConflictWith ||
    before.verdict.published !== after.verdict.published ||
    before.verdict.phase !== after.verdict.phase ||
    !jsonEqual(before.entry, after.entry)
  );
}

/** The decision, or when the snapshot schema refuses its new entry, the decision leaving it out. */
function carried(d: OfferDecision, nowMs: number): OfferDecision {
  const problem = d.entry && snapshotEntryProblem(d.entry);
  return problem ? uncarriedDecision(d, problem, nowMs) : d;
}

export class CatalogPlanner {
  private decisions = new Map<string, OfferDecision>();
  private offers: readonly SnapshotOffer[] = [];
  /** The live inputs the current plan was made from, by key. */
  private inputs = new Map<string, PlanInput>();
  private stale = true;
  /** The earliest verdict transition after the plan's clock: decisions change then. */
  private expiresAtMs = Number.POSITIVE_INFINITY;
  /** The last line logged per offer on why it is left out: said again only when it changes. */
  private said = new Map<string, string>();

  constructor(private readonly options: PlannerOptions) {}

  /** Plan again at the next call (health or a route changed, or a resync). */
  invalidate(): void {
    this.stale = true;
  }

  /** The current plan, planned again when any input changed. */
  plan(nowMs: number): PlanOutcome {
    const live = this.options.source.records().filter((r) => !r.object?.deleting);
    if (!this.stale && nowMs < this.expiresAtMs && this.sameInputs(live)) {
      return { decisions: this.decisions, offers: this.offers, fresh: false, changed: [], unprobed: false };
    }
    this.stale = false;
    const prober = this.options.prober;
    const inputsChanged = !this.sameInputs(live);
    if (inputsChanged) prober.sync(live.flatMap((r) => (r.input.parsed.ok ? [{ key: r.key, offer: r.input.parsed.offer }] : [])));
    const plan = planCatalog({
      offers: live.map((r) => r.input),
      observe: (key) => ({ upstreamHealthy: prober.get(key)?.healthy ?? false, routePublished: this.options.routePublished(key) }),
      routeManagement: this.options.routeManagement,
      source: this.options.source.kind,
      nowMs,
      declareBazaar,
    });
    const inputs = inputsChanged ? new Map(live.map((r) => [r.key, r.input])) : this.inputs;
    const decisions = new Map<string, OfferDecision>();
    const offers: SnapshotOffer[] = [];
    const changed: string[] = [];
    let unprobed = false;
    let expiresAtMs = Number.POSITIVE_INFINITY;
    for (const planned of plan.decisions) {
      const before = this.decisions.get(planned.key);
      // An unchanged decision keeps its object (and snapshot entry): later comparisons (pusher,
      // acknowledgement, this one) are identity checks, and only changed entries are new memory.
      const reuse = before !== undefined && this.inputs.get(planned.key) === inputs.get(planned.key) && sameFacts(before, planned);
      const d = reuse ? before : carried(planned, nowMs);
      if (!reuse) this.sayWhyLeftOut(d, inputs.get(d.key)?.file);
      decisions.set(d.key, d);
      if (d.entry) offers.push(d.entry);
      if (!reuse && (before === undefined || decisionChanged(before, d))) changed.push(d.key);
      if (d.offer !== undefined && prober.get(d.key) === undefined) unprobed = true;
      const transitionMs = d.verdict.nextTransitionMs;
      if (transitionMs !== undefined && transitionMs < expiresAtMs) expiresAtMs = transitionMs;
    }
    for (const key of this.said.keys()) if (!decisions.has(key)) this.said.delete(key);
    this.decisions = decisions;
    this.offers = offers;
    this.inputs = inputs;
    this.expiresAtMs = expiresAtMs;
    return { decisions, offers, fresh: true, changed, unprobed };
  }

  /** Log why the offer is left out, unless that was the last thing said of it; forget it once it is not. */
  private sayWhyLeftOut(d: OfferDecision, file: string | undefined): void {
    const why = leftOutBecause(d, file);
    if (!why) {
      this.said.delete(d.key);
      return;
    }
    if (this.said.get(d.key) === why.msg) return;
    this.said.set(d.key, why.msg);
    this.options.log?.warn(why.msg, why.fields);
  }

  private sameInputs(live: readonly { key: string; input: PlanInput }[]): boolean {
    if (live.length !== this.inputs.size) return false;
    for (const r of live) if (this.inputs.get(r.key) !== r.input) return false;
    return true;
  }
}
