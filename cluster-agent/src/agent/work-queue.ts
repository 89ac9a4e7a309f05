/**
 * A deduplicating work queue of offer keys (controller-runtime style): a key waits at most once,
 * `addAfter` keeps the earliest due time, and a key being processed is re-queued after it finishes
 * rather than processed twice at once.
 */
const MAX_TIMER_MS = 2_147_483_647;

export class WorkQueue {
  private readonly due = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private waiter: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

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
