import {
  CoordinationV1Api,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type V1Lease,
} from '@kubernetes/client-node';
import { isConflict, isNotFound } from './kube-errors.js';
import { errorMessage, type Logger } from './log.js';
import type { LeaderElectionConfig } from './config.js';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the holder renews
 * `renewTime` every retry period; a candidate takes the Lease once its record has not changed for
 * a lease duration by the candidate's own clock (no clock comparison across nodes). Every write
 * carries the resourceVersion it read, so two candidates never both win. Every Lease call is
 * aborted at its deadline (the time left until the renew deadline, at most a retry period), and a
 * timer ends leadership at the renew deadline even while a call hangs: a leader that cannot renew
 * within the renew deadline, or sees another holder, stops leading (the process then exits) before
 * a standby, which waits a whole lease duration, can take over.
 */

export interface LeaderElectionOptions extends LeaderElectionConfig {
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly now?: () => number;
}

/** The client may hand MicroTime back as a string or a Date; compare and copy it as epoch ms. */
function microTimeMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * Per-call client options that hand `signal` to the request: client-node 1.4's fetch aborts on it
 * (its generated API sets no timeout of its own).
 */
function abortOn(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly now: () => number;
  private leading = false;
  private stopped = false;
  private observedRecord = '';
  private observedAtMs = 0;
  /** When the last successful renewal started: the Lease is ours until this plus the renew deadline. */
  private lastRenewMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewDeadline: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? Date.now;
  }

  /** False from the renew deadline on, even before the step-down timer has run. */
  get isLeader(): boolean {
    return this.leading && this.now() - this.lastRenewMs < this.options.renewDeadlineMs;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stop campaigning; a leader stops leading, then hands the Lease back so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    const wasLeading = this.leading;
    this.leading = false;
    this.clearTimers();
    this.inFlight?.abort(new Error('leader election stopped'));
    this.wake?.();
    await this.loop;
    if (wasLeading) await this.release().catch((error) => this.options.log.warn('lease release failed', { error: errorMessage(error) }));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const startedMs = this.now();
      const held = await this.attempt(startedMs);
      if (this.stopped) return;
      if (held === 'held') this.renewed(startedMs);
      else if (this.leading && held === 'other') return this.stepDown('another candidate holds the Lease');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.retryPeriodMs);
      });
    }
  }

  /** One acquire-or-renew, abandoned at its deadline (a failed renewal): a hung call never blocks the loop. */
  private async attempt(startedMs: number): Promise<'held' | 'other' | 'failed'> {
    const left = this.leading ? this.lastRenewMs + this.options.renewDeadlineMs - startedMs : Infinity;
    const controller = new AbortController();
    this.inFlight = controller;
    const deadline = setTimeout(() => controller.abort(new Error('lease request timed out')), Math.max(0, Math.min(this.options.retryPeriodMs, left)));
    try {
      return await this.tryAcquireOrRenew(abortOn(controller.signal));
    } catch (error) {
      if (!this.stopped) this.options.log.warn('lease update failed', { error: errorMessage(controller.signal.aborted ? controller.signal.reason : error) });
      return 'failed';
    } finally {
      clearTimeout(deadline);
      this.inFlight = undefined;
    }
  }

  /** The Lease is ours until `startedMs` plus the renew deadline; a timer steps down then, whatever the loop awaits. */
  private renewed(startedMs: number): void {
    this.lastRenewMs = startedMs;
    if (this.renewDeadline) clearTimeout(this.renewDeadline);
    this.renewDeadline = setTimeout(() => this.stepDown('not renewed within the renew deadline'), startedMs + this.options.renewDeadlineMs - this.now());
    if (this.leading) return;
    this.leading = true;
    this.options.log.info('became leader', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
    this.options.onStartedLeading();
  }

  /** Leadership ends here, once: no more campaigning, the pending Lease call abandoned. */
  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopped = true;
    this.clearTimers();
    this.inFlight?.abort(new Error('lost leadership'));
    this.wake?.();
    this.options.log.error('lost leadership', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity, reason });
    this.options.onStoppedLeading();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.renewDeadline) clearTimeout(this.renewDeadline);
  }

  private spec(previous: V1Lease | undefined): V1Lease['spec'] {
    const now = new V1MicroTime(this.now());
    const mine = previous?.spec?.holderIdentity === this.options.identity;
    const acquiredMs = microTimeMs(previous?.spec?.acquireTime);
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000)),
      acquireTime: mine && acquiredMs !== undefined ? new V1MicroTime(acquiredMs) : now,
      renewTime: now,
      leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
  }

  /** 'held' when this candidate holds the Lease after the call. */
  private async tryAcquireOrRenew(call: ConfigurationOptions<ObservableMiddleware>): Promise<'held' | 'other'> {
    const { namespace, name, identity } = this.options;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name }, call);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { ...this.spec(undefined), leaseTransitions: 0 } } }, call);
        return 'held';
      } catch (createError) {
        if (isConflict(createError)) return 'other';
        throw createError;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const record = `${holder}|${microTimeMs(lease.spec?.renewTime) ?? ''}|${lease.metadata?.resourceVersion ?? ''}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAtMs = this.now();
    }
    const duration = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    if (holder !== '' && holder !== identity && this.now() - this.observedAtMs < duration) return 'other';
    try {
      await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec: this.spec(lease) } }, call);
      return 'held';
    } catch (error) {
      if (isConflict(error)) return 'other';
      throw error;
    }
  }

  /** Best effort, bounded by one retry period: a standby takes an unreleased Lease after its duration anyway. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const call = abortOn(AbortSignal.timeout(this.options.retryPeriodMs));
    const lease = await this.api.readNamespacedLease({ namespace, name }, call);
    if (lease.spec?.holderIdentity !== identity) return;
    const spec = { ...this.spec(lease), holderIdentity: '', leaseDurationSeconds: 1 };
    await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec } }, call);
  }
}
