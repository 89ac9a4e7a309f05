import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound } from './kube-errors.js';
import { errorMessage, type Logger } from './log.js';
import type { LeaderElectionConfig } from './config.js';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the holder renews
 * `renewTime` every retry period; a candidate takes the Lease once its record has not changed for
 * a lease duration by the candidate's own clock (no clock comparison across nodes). Every write
 * carries the resourceVersion it read, so two candidates never both win. A leader that cannot
 * renew within the renew deadline, or sees another holder, stops leading (the process then exits).
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

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly now: () => number;
  private leading = false;
  private stopped = false;
  private observedRecord = '';
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stop campaigning; a leader hands the Lease back so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    if (this.leading) await this.release().catch((error) => this.options.log.warn('lease release failed', { error: errorMessage(error) }));
    this.leading = false;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const held = await this.tryAcquireOrRenew().catch((error) => {
        this.options.log.warn('lease update failed', { error: errorMessage(error) });
        return 'failed' as const;
      });
      if (this.stopped) return;
      const now = this.now();
      if (held === 'held') {
        this.lastRenewMs = now;
        if (!this.leading) {
          this.leading = true;
          this.options.log.info('became leader', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
          this.options.onStartedLeading();
        }
      } else if (this.leading && (held === 'other' || now - this.lastRenewMs > this.options.renewDeadlineMs)) {
        this.leading = false;
        this.stopped = true;
        this.options.log.error('lost leadership', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
        this.options.onStoppedLeading();
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.retryPeriodMs);
      });
    }
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
  private async tryAcquireOrRenew(): Promise<'held' | 'other' | 'failed'> {
    const { namespace, name, identity } = this.options;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { ...this.spec(undefined), leaseTransitions: 0 } } });
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
      await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec: this.spec(lease) } });
      return 'held';
    } catch (error) {
      if (isConflict(error)) return 'other';
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const lease = await this.api.readNamespacedLease({ namespace, name });
    if (lease.spec?.holderIdentity !== identity) return;
    const spec = { ...this.spec(lease), holderIdentity: '', leaseDurationSeconds: 1 };
    await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec } });
  }
}
