import { offerStateAt, type OfferDecision, type ServiceOffer, type SnapshotOffer } from '../../../core/index.js';
import { jsonEqual } from '../../../core/json-equal.js';
import type { OfferRecord, OfferSource } from '../sources/source.js';
import type { FinalizerManager } from './finalizer.js';
import { CATALOG_FINALIZER } from './finalizer.js';
import type { HealthProber } from './health.js';
import { errorMessage, type Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';
import { CatalogPlanner } from './planner.js';
import type { Acknowledgement, Pusher } from './pusher.js';
import { reconcileOffer, sameStatus, type OfferStatus } from './reconcile.js';
import { routeName, type RouteManager } from './routes.js';
import type { StatusWriter } from './status-writer.js';
import { WorkQueue, type RetryBackoff } from './work-queue.js';

/**
 * The reconcile loop: sources and probes only enqueue keys; each batch takes the current
 * whole-catalog plan (planned again only when an input changed, see `CatalogPlanner`), hands the
 * snapshot entries to the pusher when they changed, then reconciles its keys with the pure
 * `reconcileOffer` and carries out their actions (status, route, finalizer), a few keys at a time.
 */

/** Kubernetes side effects; absent for the `dir:` source. */
export interface ClusterActions {
  readonly status: StatusWriter;
  readonly finalizers: FinalizerManager;
  /** Absent with `--no-route-management`. */
  readonly routes?: RouteManager;
}

export interface ControllerOptions {
  readonly source: OfferSource;
  readonly pusher: Pusher;
  readonly prober: HealthProber;
  readonly cluster?: ClusterActions;
  readonly publicBaseUrl: () => string | undefined;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now?: () => number;
  /** How a failing key backs off; default `RECONCILE_BACKOFF` (1 s doubling to 5 minutes). */
  readonly retry?: RetryBackoff;
}

/** Poll interval of a deletion waiting on the edge. */
const DELETION_POLL_MS = 250;
/** Longest wait before the next batch (it equals the last plan's duration up to this). */
const MAX_COALESCE_MS = 1000;
/**
 * Keys per batch: a plan change (a new price, a freed path) waits at most one batch of status
 * writes before it is planned and pushed, however many offers a resync or an acknowledgement queued.
 */
export const MAX_BATCH_KEYS = 64;
/** Keys of a batch reconciled at once (their Kubernetes writes overlap; each key is still sequential). */
export const RECONCILE_CONCURRENCY = 16;

interface BatchOutcome {
  /** Time spent planning (0 when the plan was reused). */
  readonly planMs: number;
  /** The batch planned while some offer still waited for its first probe. */
  readonly unprobed: boolean;
}

const NOTHING_PLANNED: BatchOutcome = { planMs: 0, unprobed: false };

/** A key's decision and the generation of the spec it was planned from (what `observedGeneration` may claim). */
interface PlannedOffer {
  readonly decision: OfferDecision | undefined;
  readonly generation: number | undefined;
}

/** Wait `ms`, or just one turn of the event loop (after pending I/O) when it is below 1 ms. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms < 1 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly now: () => number;
  private readonly routeState = new Map<string, 'present' | 'absent'>();
  /**
   * The first acknowledged sequence that served each offer's current entry. PaymentGateReady names
   * it, so a later push (a heartbeat, another offer's change) does not rewrite every offer's status:
   * naming the latest sequence cost one status write per offer per push (10,000 at 10,000 offers).
   */
  private readonly servedSince = new Map<string, { entry: SnapshotOffer; sequence: number }>();
  private readonly planner: CatalogPlanner;
  private resync: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? Date.now;
    this.queue = new WorkQueue(this.now, options.retry);
    this.planner = new CatalogPlanner({
      source: options.source,
      prober: options.prober,
      routeManagement: options.cluster?.routes !== undefined,
      routePublished: (key) => this.routeState.get(key) === 'present',
      log: options.log,
    });
  }

  start(): void {
    for (const record of this.options.source.records()) this.queue.add(record.key);
    this.resync = setInterval(() => this.enqueueAll(), this.options.resyncMs);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.resync) clearInterval(this.resync);
    this.queue.close();
    await this.loop;
  }

  /** A source reported a change of this offer (the planner sees whether its parsed input changed). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** The offer's probe result changed: plan again. */
  healthChanged(key: string): void {
    this.planner.invalidate();
    this.queue.add(key);
  }

  /** Resync: plan again, re-apply every route once, and reconcile every offer. */
  enqueueAll(): void {
    this.planner.invalidate();
    this.options.cluster?.routes?.forgetApplied();
    this.addAll();
  }

  /**
   * An acknowledgement changes PaymentGateReady, and may release deletions, only for the offers whose
   * entry it added, changed or removed; a heartbeat that re-signs the same catalog enqueues nothing.
   */
  onAck(ack: Acknowledgement, previous: Acknowledgement | undefined): void {
    for (const [key, entry] of ack.offers) {
      const before = previous?.offers.get(key);
      if (before !== entry && !jsonEqual(before, entry)) this.queue.add(key);
    }
    for (const key of previous?.offers.keys() ?? []) if (!ack.offers.has(key)) this.queue.add(key);
  }

  private addAll(): void {
    for (const record of this.options.source.records()) this.queue.add(record.key);
  }

  private async run(): Promise<void> {
    // A first plan even with no offers, so an empty source still publishes an (empty) catalog.
    let last = await this.processBatch([]).catch((error: unknown): BatchOutcome => {
      this.options.log.error('initial plan failed', { error: errorMessage(error) });
      return NOTHING_PLANNED;
    });
    for (;;) {
      // Yield to pending I/O (probe answers, watch events) before taking keys, and after a batch
      // that planned, for as long as planning took: a burst becomes one plan instead of one
      // whole-catalog plan per key (quadratic at 10,000 offers), and planning never takes more
      // than half the event loop. While first probes run (start-up: 10,000 of them) their answers
      // are gathered for up to MAX_COALESCE_MS, or until the last one is in.
      if (last.unprobed) await this.options.prober.settled(MAX_COALESCE_MS);
      else await pause(Math.min(last.planMs, MAX_COALESCE_MS));
      const keys = await this.queue.take(MAX_BATCH_KEYS);
      if (!keys.length) return;
      try {
        last = await this.processBatch(keys);
      } catch (error) {
        last = NOTHING_PLANNED;
        this.options.log.error('reconcile batch failed', { error: errorMessage(error) });
        for (const key of keys) this.queue.retryLater(key);
      } finally {
        this.queue.done(keys);
      }
    }
  }

  /**
   * An offer whose route is wanted but whose route state this agent does not know yet (a new
   * leader has applied nothing): pushing now would withdraw it from the edge until its route is
   * applied again, an outage on every failover.
   */
  private routesUnknown(decisions: ReadonlyMap<string, OfferDecision>): boolean {
    if (!this.options.cluster?.routes) return false;
    for (const d of decisions.values()) if (d.verdict.route.wanted && !this.routeState.has(d.key)) return true;
    return false;
  }

  /** Plan if needed, hand a changed plan to the pusher, reconcile the keys. */
  private async processBatch(keys: readonly string[]): Promise<BatchOutcome> {
    const nowMs = this.now();
    const started = performance.now();
    const plan = this.planner.plan(nowMs);
    // Read in the same turn as the plan: the generation each decision describes, whatever the informer delivers meanwhile.
    const generations = new Map(keys.map((key) => [key, this.options.source.get(key)?.object?.generation]));
    const planMs = plan.fresh ? performance.now() - started : 0;
    if (plan.fresh) {
      this.options.log.debug('catalog planned', { offers: plan.offers.length, changed: plan.changed.length, unprobed: plan.unprobed, ms: Math.round(planMs) });
      // Push only once every valid offer has been probed and every wanted route applied once: never
      // advertise an offer as unavailable merely because this agent has not looked yet (a restart).
      if (!plan.unprobed && !this.routesUnknown(plan.decisions)) this.options.pusher.setOffers(plan.offers);
      // Keys whose decision changed are reconciled too (e.g. a path freed by a deletion).
      const batch = new Set(keys);
      for (const key of plan.changed) if (!batch.has(key)) this.queue.add(key);
    }
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        await this.reconcileCounted(key, { decision: plan.decisions.get(key), generation: generations.get(key) }, nowMs);
      }
    };
    const workers = this.options.cluster ? Math.min(RECONCILE_CONCURRENCY, keys.length) : 1;
    await Promise.all(Array.from({ length: workers }, worker));
    return { planMs, unprobed: plan.fresh && plan.unprobed };
  }

  private async reconcileCounted(key: string, planned: PlannedOffer, nowMs: number): Promise<void> {
    try {
      await this.reconcileKey(key, planned, nowMs);
      this.options.metrics.reconciles.inc({ result: 'ok' });
      this.queue.forget(key);
    } catch (error) {
      this.options.metrics.reconciles.inc({ result: 'error' });
      this.options.metrics.reconcileErrors.inc();
      // One line per backoff step: a key failing for good is logged every few minutes, not every second.
      const { delayMs, attempt } = this.queue.retryLater(key);
      this.options.log.warn('reconcile failed; requeued', { offer: key, error: errorMessage(error), retryInMs: delayMs, attempt });
    }
  }

  private async reconcileKey(key: string, { decision, generation }: PlannedOffer, nowMs: number): Promise<void> {
    const record = this.options.source.get(key);
    const cluster = this.options.cluster;
    if (!cluster) {
      // dir: source: the snapshot is the only output; look again when the verdict next changes (a drain ends).
      const transitionMs = decision?.verdict.nextTransitionMs;
      if (transitionMs !== undefined) this.queue.addAfter(key, transitionMs + 1000 - nowMs);
      return;
    }
    if (!record?.object) return this.forget(key);
    if (record.object.deleting) return this.finalize(record);
    if (!decision) return;
    // Until its first probe answers, writing "health unknown" would flap a healthy offer's
    // conditions on every agent restart; the probe's answer enqueues the offer.
    if (record.input.parsed.ok && this.options.prober.get(key) === undefined) return;
    if (!record.object.finalizers.includes(CATALOG_FINALIZER)) await cluster.finalizers.add(record.object);
    const outcome = this.decide(record, decision, nowMs, { previous: record.object.status, generation });
    let routeFailure: { error: unknown } | undefined;
    try {
      // A route state new to this agent changes the plan and requeues the key: write the status from that plan, not this one.
      if (await this.applyRoute(key, outcome.route, decision.offer)) return;
    } catch (error) {
      routeFailure = { error };
    }
    // A refused route is said in the status (RouteApplyFailed), then the key backs off like any failure.
    const routeError = routeFailure && errorMessage(routeFailure.error);
    const desired = routeError === undefined ? outcome : this.decide(record, decision, nowMs, { previous: record.object.status, generation, routeError });
    if (desired.statusChanged) {
      await cluster.status.write(record.object, (fresh) => {
        // A newer spec than the one decided on: its own event requeues the key; stamping its generation on this status would be a lie.
        if (fresh.generation !== generation) return undefined;
        const again = this.decide(record, decision, nowMs, { previous: fresh.status, generation, routeError });
        return sameStatus(fresh.status, again.status) ? undefined : again.status;
      });
    }
    if (routeFailure) throw routeFailure.error;
    if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
  }

  private decide(record: OfferRecord, decision: OfferDecision, nowMs: number, facts: { previous: OfferStatus | undefined; generation: number | undefined; routeError?: string }) {
    return reconcileOffer({
      decision,
      ...facts,
      health: this.options.prober.get(record.key),
      acknowledgedSequence: this.acknowledged(decision, nowMs),
      routeManagement: this.options.cluster?.routes !== undefined,
      routeName: `${record.object?.namespace ?? ''}/${routeName(record.object?.name ?? '')}`,
      publicBaseUrl: this.options.publicBaseUrl(),
      nowMs,
    });
  }

  /** The acknowledged sequence since which the edge serves exactly this offer's current entry. */
  private acknowledged(decision: OfferDecision, nowMs: number): number | undefined {
    const ack = this.options.pusher.lastAck;
    const served = ack?.offers.get(decision.key);
    if (!ack || !served || !decision.entry || !jsonEqual(served, decision.entry)) {
      this.servedSince.delete(decision.key);
      return undefined;
    }
    const state = offerStateAt(served, nowMs);
    if (state !== 'active' && state !== 'draining') return undefined;
    const since = this.servedSince.get(decision.key);
    if (since && (since.entry === decision.entry || jsonEqual(since.entry, decision.entry))) return since.sequence;
    this.servedSince.set(decision.key, { entry: decision.entry, sequence: ack.sequence });
    return ack.sequence;
  }

  /** Apply or delete the route; true when its state changed, which re-plans and requeues the key. */
  private async applyRoute(key: string, wanted: 'present' | 'absent', offer: ServiceOffer | undefined): Promise<boolean> {
    const routes = this.options.cluster?.routes;
    if (!routes) return false;
    const before = this.routeState.get(key);
    if (wanted === 'absent' && before === 'absent') return false;
    if (wanted === 'present' && offer) {
      try {
        if ((await routes.ensure(offer)) === 'applied' && before !== 'present') this.options.log.info('HTTPRoute applied', { offer: key });
      } catch (error) {
        // A route that cannot be applied is known to be missing: the rest of the catalog still goes out.
        if (before === undefined) {
          this.routeState.set(key, 'absent');
          this.planner.invalidate();
        }
        throw error;
      }
    } else {
      const [namespace = '', name = ''] = key.split('/');
      const result = await routes.remove(namespace, name);
      if (result === 'deleted') this.options.log.info('HTTPRoute deleted', { offer: key });
    }
    this.routeState.set(key, wanted);
    if (before === wanted) return false;
    // The route is a publication fact: plan again with it.
    this.planner.invalidate();
    this.queue.add(key);
    return true;
  }

  /** Deletion: no route, and the edge acknowledged a snapshot without the offer; then let it go. */
  private async finalize(record: OfferRecord): Promise<void> {
    const object = record.object;
    const cluster = this.options.cluster;
    if (!object || !cluster || !object.finalizers.includes(CATALOG_FINALIZER)) return;
    await this.applyRoute(record.key, 'absent', undefined);
    const ack = this.options.pusher.lastAck;
    if (!ack || ack.offers.has(record.key) || !this.options.pusher.inSync) {
      this.queue.addAfter(record.key, DELETION_POLL_MS);
      return;
    }
    await cluster.finalizers.remove(object);
    this.routeState.delete(record.key);
    this.servedSince.delete(record.key);
    this.options.log.info('offer removed from the catalog; finalizer released', { offer: record.key, sequence: ack.sequence });
  }

  private async forget(key: string): Promise<void> {
    if (this.routeState.get(key) === 'present') await this.applyRoute(key, 'absent', undefined);
    this.routeState.delete(key);
    this.servedSince.delete(key);
  }
}
