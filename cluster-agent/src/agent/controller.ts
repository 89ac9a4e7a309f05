import { offerStateAt, planCatalog, type CatalogPlan, type OfferDecision, type ServiceOffer } from '../../../core/index.js';
import type { OfferRecord, OfferSource } from '../sources/source.js';
import type { FinalizerManager } from './finalizer.js';
import { CATALOG_FINALIZER } from './finalizer.js';
import type { HealthProber } from './health.js';
import { errorMessage, type Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';
import type { Acknowledgement, Pusher } from './pusher.js';
import { reconcileOffer, sameStatus } from './reconcile.js';
import { routeName, type RouteManager } from './routes.js';
import type { StatusWriter } from './status-writer.js';
import { WorkQueue } from './work-queue.js';

/**
 * The reconcile loop: sources and probes only enqueue keys; each batch plans the whole catalog once
 * (paths are unique across offers), hands the snapshot entries to the pusher, then reconciles each
 * key with the pure `reconcileOffer` and carries out its actions (status, route, finalizer).
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
}

/** Retry delay for a failed reconcile and for a deletion waiting on the edge. */
const RETRY_MS = 1000;
const DELETION_POLL_MS = 250;
/** Longest wait before the next batch (it equals the last batch's duration up to this). */
const MAX_COALESCE_MS = 1000;

/** Wait `ms`, or just one turn of the event loop (after pending I/O) when it is below 1 ms. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms < 1 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly now: () => number;
  private readonly routeState = new Map<string, 'present' | 'absent'>();
  private fingerprints = new Map<string, string>();
  private resync: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? Date.now;
    this.queue = new WorkQueue(this.now);
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

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAll(): void {
    for (const record of this.options.source.records()) this.queue.add(record.key);
  }

  /** An acknowledgement changes PaymentGateReady and may release deletions. */
  onAck(ack: Acknowledgement): void {
    for (const key of ack.offers.keys()) this.queue.add(key);
    this.enqueueAll();
  }

  private async run(): Promise<void> {
    // A first plan even with no offers, so an empty source still publishes an (empty) catalog.
    await this.processBatch([]).catch((error: unknown) => this.options.log.error('initial plan failed', { error: errorMessage(error) }));
    let lastBatchMs = 0;
    for (;;) {
      // Yield to pending I/O (probe answers, watch events) before taking keys, and for as long as
      // the last batch ran: a burst becomes one batch instead of one whole-catalog plan per key
      // (quadratic at 10,000 offers), and planning never takes more than half the event loop.
      await pause(Math.min(lastBatchMs, MAX_COALESCE_MS));
      const keys = await this.queue.take();
      if (!keys.length) return;
      const started = performance.now();
      try {
        await this.processBatch(keys);
      } catch (error) {
        this.options.log.error('reconcile batch failed', { error: errorMessage(error) });
        for (const key of keys) this.queue.addAfter(key, RETRY_MS);
      } finally {
        this.queue.done(keys);
        lastBatchMs = performance.now() - started;
      }
    }
  }

  private plan(nowMs: number): CatalogPlan {
    const live = this.options.source.records().filter((r) => !r.object?.deleting);
    this.options.prober.sync(live.flatMap((r) => (r.input.parsed.ok ? [{ key: r.key, offer: r.input.parsed.offer }] : [])));
    const routes = this.options.cluster?.routes;
    return planCatalog({
      offers: live.map((r) => r.input),
      observe: (key) => ({ upstreamHealthy: this.options.prober.get(key)?.healthy ?? false, routePublished: this.routeState.get(key) === 'present' }),
      routeManagement: routes !== undefined,
      source: this.options.source.kind,
      nowMs,
    });
  }

  /** Keys whose decision changed since the last plan are reconciled too (e.g. a path freed). */
  private cascade(plan: CatalogPlan, batch: ReadonlySet<string>): void {
    const next = new Map<string, string>();
    for (const d of plan.decisions) {
      const print = JSON.stringify([d.invalid ?? null, d.pathConflictWith ?? null, d.published, d.phase, d.entry ?? null]);
      next.set(d.key, print);
      if (this.fingerprints.get(d.key) === print) continue;
      if (d.invalid !== undefined) this.options.log.warn('invalid ServiceOffer', { offer: d.key, problems: d.invalid });
      if (!batch.has(d.key)) this.queue.add(d.key);
    }
    this.fingerprints = next;
  }

  private async processBatch(keys: readonly string[]): Promise<void> {
    const nowMs = this.now();
    const plan = this.plan(nowMs);
    // Push only once every valid offer has been probed: never advertise an offer as unavailable
    // merely because its first probe is still running (e.g. right after an agent restart).
    const unprobed = plan.decisions.some((d) => d.offer !== undefined && this.options.prober.get(d.key) === undefined);
    if (!unprobed) this.options.pusher.setOffers(plan.offers);
    this.cascade(plan, new Set(keys));
    const decisions = new Map(plan.decisions.map((d) => [d.key, d]));
    for (const key of keys) {
      try {
        await this.reconcileKey(key, decisions.get(key), nowMs);
        this.options.metrics.reconciles.inc({ result: 'ok' });
      } catch (error) {
        this.options.metrics.reconciles.inc({ result: 'error' });
        this.options.metrics.reconcileErrors.inc();
        this.options.log.warn('reconcile failed; requeued', { offer: key, error: errorMessage(error) });
        this.queue.addAfter(key, RETRY_MS);
      }
    }
  }

  private async reconcileKey(key: string, decision: OfferDecision | undefined, nowMs: number): Promise<void> {
    const record = this.options.source.get(key);
    const cluster = this.options.cluster;
    if (!cluster) {
      // dir: source: the snapshot is the only output; look again when a drain ends.
      const endsAt = decision?.phase === 'draining' ? decision.schedule?.drainEndsAtMs : undefined;
      if (endsAt !== undefined) this.queue.addAfter(key, endsAt + 1000 - nowMs);
      return;
    }
    if (!record?.object) return this.forget(key);
    if (record.object.deleting) return this.finalize(record);
    if (!decision) return;
    if (!record.object.finalizers.includes(CATALOG_FINALIZER)) await cluster.finalizers.add(record.object);
    const outcome = this.decide(record, decision, nowMs, record.object.status);
    await this.applyRoute(key, outcome.route, decision.offer);
    if (outcome.statusChanged) {
      await cluster.status.write(record.object, (fresh) => {
        const again = this.decide(record, decision, nowMs, fresh.status, fresh.generation);
        return sameStatus(fresh.status, again.status) ? undefined : again.status;
      });
    }
    if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
  }

  private decide(record: OfferRecord, decision: OfferDecision, nowMs: number, previous = record.object?.status, generation = record.object?.generation) {
    return reconcileOffer({
      decision,
      generation,
      previous,
      health: this.options.prober.get(record.key),
      acknowledgedSequence: this.acknowledged(decision, nowMs),
      routeManagement: this.options.cluster?.routes !== undefined,
      routeName: `${record.object?.namespace ?? ''}/${routeName(record.object?.name ?? '')}`,
      publicBaseUrl: this.options.publicBaseUrl(),
      nowMs,
    });
  }

  /** The acknowledged sequence when the edge serves exactly this offer's current entry. */
  private acknowledged(decision: OfferDecision, nowMs: number): number | undefined {
    const ack = this.options.pusher.lastAck;
    const served = ack?.offers.get(decision.key);
    if (!ack || !served || !decision.entry || JSON.stringify(served) !== JSON.stringify(decision.entry)) return undefined;
    const state = offerStateAt(served, nowMs);
    return state === 'active' || state === 'draining' ? ack.sequence : undefined;
  }

  private async applyRoute(key: string, wanted: 'present' | 'absent', offer: ServiceOffer | undefined): Promise<void> {
    const routes = this.options.cluster?.routes;
    if (!routes) return;
    const before = this.routeState.get(key);
    if (wanted === 'absent' && before === 'absent') return;
    if (wanted === 'present' && offer) {
      const result = await routes.ensure(offer);
      if (result !== 'unchanged') this.options.log.info('HTTPRoute applied', { offer: key, result });
    } else {
      const [namespace = '', name = ''] = key.split('/');
      const result = await routes.remove(namespace, name);
      if (result === 'deleted') this.options.log.info('HTTPRoute deleted', { offer: key });
    }
    this.routeState.set(key, wanted);
    // The route is a publication fact: plan again with it.
    if (before !== wanted) this.queue.add(key);
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
    this.options.log.info('offer removed from the catalog; finalizer released', { offer: record.key, sequence: ack.sequence });
  }

  private async forget(key: string): Promise<void> {
    if (this.routeState.get(key) === 'present') await this.applyRoute(key, 'absent', undefined);
    this.routeState.delete(key);
  }
}
