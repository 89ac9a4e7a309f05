import type { ServiceOffer } from '../../../core/index.js';
import { probeUpstream, upstreamHealthUrl, type ProbeResult } from '../publish/probe.js';
import type { HealthObservation } from './reconcile.js';

/**
 * Probes the upstream of every valid offer periodically (SPEC §7 `UpstreamHealthy`) and reports the
 * keys whose health changed. A new offer, or one whose health URL changed, is probed at once.
 */
export interface HealthProberOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly onChange: (key: string) => void;
}

/** Probes in flight at once: 10,000 offers must not mean 10,000 sockets and their buffers. */
export const MAX_CONCURRENT_PROBES = 32;

interface Target {
  offer: ServiceOffer;
  url: string;
  result?: HealthObservation;
}

function observation(result: ProbeResult): HealthObservation {
  const url = result.url ?? '(no URL)';
  return result.healthy
    ? { healthy: true, message: `GET ${url} answered ${result.status ?? 200}` }
    : { healthy: false, message: `GET ${url}: ${result.detail ?? 'unhealthy'}` };
}

function healthUrl(offer: ServiceOffer): string {
  try {
    return upstreamHealthUrl(offer);
  } catch (error) {
    return `invalid: ${(error as Error).message}`;
  }
}

export class HealthProber {
  private readonly targets = new Map<string, Target>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Keys with a probe queued or running: a slow round never stacks a second probe of a key. */
  private readonly pending = new Set<string>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  /** Targets with no result yet, and who waits for that to reach zero. */
  private unprobed = 0;
  private settledWaiters: Array<() => void> = [];

  constructor(private readonly options: HealthProberOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const key of this.targets.keys()) void this.probe(key);
    }, this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unprobed = 0;
    this.releaseSettled();
  }

  get(key: string): HealthObservation | undefined {
    return this.targets.get(key)?.result;
  }

  /** Resolves once every target has its first result, or after `maxWaitMs`. */
  settled(maxWaitMs: number): Promise<void> {
    if (this.unprobed === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.settledWaiters.push(done);
    });
  }

  /** Make the probed set equal to `offers`. */
  sync(offers: ReadonlyArray<{ key: string; offer: ServiceOffer }>): void {
    const wanted = new Set(offers.map((o) => o.key));
    for (const [key, target] of this.targets) {
      if (wanted.has(key)) continue;
      this.targets.delete(key);
      if (!target.result) this.unprobed--;
    }
    for (const { key, offer } of offers) {
      const url = healthUrl(offer);
      const current = this.targets.get(key);
      if (current && current.url === url) {
        current.offer = offer;
        continue;
      }
      // A new target, or a new URL for one that had a result, waits for a first probe again.
      if (!current || current.result) this.unprobed++;
      this.targets.set(key, { offer, url });
      void this.probe(key);
    }
    this.releaseSettled();
  }

  private releaseSettled(): void {
    if (this.unprobed > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const done of waiters) done();
  }

  private async probe(key: string): Promise<void> {
    if (this.pending.has(key)) return;
    this.pending.add(key);
    let probed: Target | undefined;
    try {
      await this.acquire();
      try {
        probed = await this.probeNow(key);
      } finally {
        this.release();
      }
    } finally {
      this.pending.delete(key);
    }
    // The health URL changed while the old one was probed (that answer was dropped): probe the new one.
    const current = this.targets.get(key);
    if (probed && current && current !== probed && !this.stopped) void this.probe(key);
  }

  private acquire(): Promise<void> {
    if (this.active < MAX_CONCURRENT_PROBES) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hand the slot straight to the next waiter, or free it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Probe the key's current target; returns the target probed. */
  private async probeNow(key: string): Promise<Target | undefined> {
    const target = this.targets.get(key);
    if (!target || this.stopped) return undefined;
    const result = observation(await probeUpstream(target.offer, { timeoutMs: this.options.timeoutMs }));
    // The offer may have changed or gone while the probe ran: keep only answers for the same URL.
    if (this.targets.get(key) !== target || this.stopped) return target;
    const before = target.result;
    target.result = result;
    if (!before) {
      this.unprobed--;
      this.releaseSettled();
    }
    if (!before || before.healthy !== result.healthy || before.message !== result.message) this.options.onChange(key);
    return target;
  }
}
