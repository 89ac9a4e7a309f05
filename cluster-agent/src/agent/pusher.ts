import type { AgentIdentity, SnapshotOffer } from '../../../core/index.js';
import { jsonEqual } from '../../../core/json-equal.js';
import type { EdgeClient } from '../publish/edge-client.js';
import { pushSnapshot } from '../publish/publish.js';
import type { CatalogSigner } from '../publish/signer.js';
import { errorMessage, type Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';

/**
 * Keeps the edge's catalog equal to the agent's plan (SPEC §6, §7): pushes a signed snapshot after
 * a change (debounced), retries with exponential backoff and jitter, re-signs a fresh snapshot as a
 * heartbeat, and re-pushes when the edge's status shows an older sequence (e.g. it lost its state).
 */

export interface PusherTiming {
  readonly debounceMs: number;
  readonly heartbeatMs: number;
  readonly statusPollMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_PUSHER_TIMING: PusherTiming = {
  debounceMs: 100,
  heartbeatMs: 10 * 60_000,
  statusPollMs: 30_000,
  backoffBaseMs: 500,
  backoffMaxMs: 60_000,
};

export interface Acknowledgement {
  readonly sequence: number;
  readonly atMs: number;
  /** The audience the snapshot was addressed to (the edge's PUBLIC_BASE_URL). */
  readonly audience: string;
  /** Offers of the acknowledged snapshot by key. */
  readonly offers: ReadonlyMap<string, SnapshotOffer>;
}

export interface PusherOptions {
  readonly client: EdgeClient;
  readonly signer: CatalogSigner;
  readonly identity: AgentIdentity;
  readonly audience?: string;
  readonly timing: PusherTiming;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  /** Every acknowledgement, with the one before it (what the edge served until now). */
  readonly onAck: (ack: Acknowledgement, previous: Acknowledgement | undefined) => void;
  /** Asked before each push, before signing and before sending: false once this agent no longer leads. */
  readonly mayPush?: () => boolean;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A deposed leader's push, refused before it signed or sent anything. */
export class NotLeaderError extends Error {
  readonly reason = 'not-leader';
  constructor() {
    super('not the leader: push refused');
    this.name = 'NotLeaderError';
  }
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, timing: Pick<PusherTiming, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number): number {
  const ceiling = Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export class Pusher {
  private offers: readonly SnapshotOffer[] = [];
  /**
   * Content versions instead of JSON copies of the catalog (8 MiB each at 10,000 offers): equal
   * versions mean equal entries; a plan equal to the acknowledged one takes its version back.
   */
  private wantedVersion = 0;
  private ackedVersion: number | undefined;
  private ackedOffers: readonly SnapshotOffer[] | undefined;
  private versions = 0;
  private ack: Acknowledgement | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running = false;
  private pushing: Promise<void> | undefined;
  private failures = 0;
  private forced = false;
  /** No push before the first plan: an empty catalog must never replace the edge's at startup. */
  private planned = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly mayPush: () => boolean;
  /** The signer and the edge's push as this pusher uses them: each asks `mayPush` first. */
  private readonly signer: CatalogSigner;
  private readonly client: EdgeClient;

  constructor(private readonly options: PusherOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const mayPush = options.mayPush ?? (() => true);
    this.mayPush = mayPush;
    const whileLeading = <T>(step: () => Promise<T>): Promise<T> => (mayPush() ? step() : Promise.reject(new NotLeaderError()));
    const { signer, client } = options;
    this.signer = { address: signer.address, sign: (body) => whileLeading(() => signer.sign(body)) };
    this.client = { baseUrl: client.baseUrl, status: () => client.status(), push: (body, signature) => whileLeading(() => client.push(body, signature)) };
  }

  get lastAck(): Acknowledgement | undefined {
    return this.ack;
  }

  /** True once the current plan is what the edge acknowledged. */
  get inSync(): boolean {
    return this.ackedVersion === this.wantedVersion;
  }

  start(): void {
    this.running = true;
    this.heartbeat = setInterval(() => this.heartbeatTick(), Math.max(50, Math.min(this.options.timing.heartbeatMs / 4, 60_000)));
    this.poll = setInterval(() => void this.pollStatus(), this.options.timing.statusPollMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.poll) clearInterval(this.poll);
    await this.pushing;
  }

  /** The planned snapshot entries; a push follows when they differ from what the edge has. */
  setOffers(offers: readonly SnapshotOffer[]): void {
    const first = !this.planned;
    this.planned = true;
    if (!first && jsonEqual(offers, this.offers)) return;
    this.offers = offers;
    const backToAcked = this.ackedOffers !== undefined && jsonEqual(offers, this.ackedOffers);
    this.wantedVersion = backToAcked && this.ackedVersion !== undefined ? this.ackedVersion : ++this.versions;
    this.failures = 0;
    this.schedule(this.options.timing.debounceMs);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pushNow(), delayMs);
  }

  private heartbeatTick(): void {
    const last = this.ack?.atMs;
    if (last !== undefined && this.now() - last >= this.options.timing.heartbeatMs) {
      this.forced = true;
      this.schedule(0);
    }
  }

  private async pollStatus(): Promise<void> {
    if (!this.running || !this.ack) return;
    try {
      const status = await this.options.client.status();
      const edgeSequence = status.sequence ?? undefined;
      if (edgeSequence === undefined || edgeSequence < this.ack.sequence) {
        this.options.log.warn('edge holds an older catalog; re-pushing', { edgeSequence: edgeSequence ?? null, acknowledged: this.ack.sequence });
        this.forced = true;
        this.schedule(0);
      }
      this.options.metrics.edgeLag.set(Math.max(0, (this.now() - this.ack.atMs) / 1000));
    } catch (error) {
      this.options.log.warn('edge status poll failed', { error: errorMessage(error) });
    }
  }

  private async pushNow(): Promise<void> {
    if (!this.running || !this.mayPush()) return;
    if (this.pushing) {
      await this.pushing;
      return this.schedule(0);
    }
    if (!this.planned || (!this.forced && this.inSync)) return;
    this.pushing = this.attempt().finally(() => {
      this.pushing = undefined;
    });
    await this.pushing;
  }

  private async attempt(): Promise<void> {
    const offers = this.offers;
    const version = this.wantedVersion;
    const started = this.now();
    try {
      const outcome = await pushSnapshot({
        client: this.client,
        signer: this.signer,
        offers,
        identity: this.options.identity,
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
        nowMs: started,
      });
      this.options.metrics.pushDuration.observe((this.now() - started) / 1000);
      this.options.metrics.sequence.set(outcome.sequence);
      this.options.metrics.edgeLag.set(0);
      this.failures = 0;
      this.forced = false;
      this.ackedVersion = version;
      this.ackedOffers = offers;
      const previous = this.ack;
      this.ack = { sequence: outcome.sequence, atMs: this.now(), audience: outcome.audience, offers: new Map(offers.map((o) => [o.key, o])) };
      this.options.log.info('snapshot acknowledged', { sequence: outcome.sequence, offers: offers.length, bytes: outcome.bytes, ms: this.now() - started });
      this.options.onAck(this.ack, previous);
      if (version !== this.wantedVersion) this.schedule(this.options.timing.debounceMs);
    } catch (error) {
      if (error instanceof NotLeaderError) return this.options.log.info('snapshot not pushed: no longer the leader');
      this.options.metrics.pushErrors.inc();
      const delay = backoffDelay(this.failures++, this.options.timing, this.random);
      this.options.log.warn('snapshot push failed; retrying', { error: errorMessage(error), retryInMs: delay, attempt: this.failures });
      this.schedule(delay);
    }
  }
}
