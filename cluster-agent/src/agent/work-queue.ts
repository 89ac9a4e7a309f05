import { backoffDelay } from './pusher.js';

/**
 * A deduplicating work queue of offer keys (controller-runtime style): a key waits at most once,
 * `addAfter` keeps the earliest due time, and a key being processed is re-queued after it finishes
 * rather than processed twice at once. A failing key backs off per key (`retryLater`, client-go's
 * rate-limited add) until `forget` says it succeeded.
 */
const MAX_TIMER_MS = 2_147_483_647;

export interface RetryBackoff {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** A failing reconcile is retried after ~1 s, doubling per consecutive failure up to 5 minutes. */
export const RECONCILE_BACKOFF: RetryBackoff = { backoffBaseMs: 1000, backoffMaxMs: 300_000 };

export class WorkQueue {
  private readonly due = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private waiter: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Consecutive failures per key, for its backoff. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly backoff: RetryBackoff = RECONCILE_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  add(key: string): void {
    this.addAfter(key, 0);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (this.processing.has(key) && delayMs <= 0) {
      this.dirty.add(key);
      return;
    }
    const at = this.now() + Math.max(0, delayMs);
    const current = this.due.get(key);
    if (current === undefined || at < current) this.due.set(key, at);
    this.wake();
  }

  /** The key failed: due again after its next backoff step (jittered, doubling, capped). */
  retryLater(key: string): { delayMs: number; attempt: number } {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const delayMs = backoffDelay(attempt - 1, this.backoff, this.random);
    this.addAfter(key, delayMs);
    return { delayMs, attempt };
  }

  /** The key succeeded (or is gone): its next failure starts the backoff over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  get length(): number {
    return this.due.size;
  }

  /** Wait for keys that are due, then mark at most `max` of them processing. Resolves [] once closed. */
  async take(max = Number.POSITIVE_INFINITY): Promise<string[]> {
    for (;;) {
      if (this.closed) return [];
      const now = this.now();
      const ready: string[] = [];
      for (const [key, at] of this.due) {
        if (ready.length >= max) break;
        if (at <= now && !this.processing.has(key)) ready.push(key);
      }
      if (ready.length) {
        for (const key of ready) {
          this.due.delete(key);
          this.processing.add(key);
        }
        return ready;
      }
      await this.sleepUntilNext(now);
    }
  }

  /** Mark keys finished; those added while processing are due again at once. */
  done(keys: readonly string[]): void {
    for (const key of keys) {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.addAfter(key, 0);
    }
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private sleepUntilNext(now: number): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const [key, at] of this.due) if (at < next && !this.processing.has(key)) next = at;
    return new Promise((resolve) => {
      this.waiter = resolve;
      // setTimeout fires at once past 2^31-1 ms (~24.8 days), which would spin on a far-off drain deadline.
      if (Number.isFinite(next)) this.timer = setTimeout(() => this.wake(), Math.min(MAX_TIMER_MS, Math.max(0, next - now)));
    });
  }

  private wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
