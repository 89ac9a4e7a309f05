import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../env.js';
import type { SettledAuthorization } from './settled-queue.js';

/**
 * The per-isolate queue of settled rows, driven with fake timers and a recording NonceLedger
 * namespace that can fail on cue (the real ledger is exercised through workerd in paid-flow.test.ts).
 */
type Queue = typeof import('./settled-queue.js');

class RecordingLedgers {
  written = new Map<string, SettledAuthorization[]>();
  failNext = 0;
  getByName(shard: string) {
    return {
      settledMany: async (rows: readonly SettledAuthorization[]) => {
        if (this.failNext > 0) {
          this.failNext--;
          throw new Error('ledger unavailable');
        }
        this.written.set(shard, [...(this.written.get(shard) ?? []), ...rows]);
      },
    };
  }
  count(): number {
    return [...this.written.values()].reduce((sum, rows) => sum + rows.length, 0);
  }
}

let queue: Queue;
let ledgers: RecordingLedgers;
let env: Env;
const ctx = { waitUntil: (p: Promise<unknown>) => void p };
const row = (i: number): SettledAuthorization => ({ key: `k${i}`, transaction: `0x${i.toString(16).padStart(64, '0')}` });

beforeEach(async () => {
  vi.useFakeTimers();
  vi.resetModules();
  queue = await import('./settled-queue.js');
  ledgers = new RecordingLedgers();
  env = { NONCES: ledgers } as unknown as Env;
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('settled rows', () => {
  it('are handed to the payer\'s next claim once, and to nobody else', () => {
    queue.queueSettled(env, ctx, 'payer-a', row(1));
    queue.queueSettled(env, ctx, 'payer-a', row(2));
    queue.queueSettled(env, ctx, 'payer-b', row(3));
    expect(queue.takeSettled('payer-a')).toEqual([row(1), row(2)]);
    expect(queue.takeSettled('payer-a')).toBeUndefined();
    expect(queue.takeSettled('payer-b')).toEqual([row(3)]);
  });

  it('without a next claim are written within a second, one call per payer', async () => {
    queue.queueSettled(env, ctx, 'payer-a', row(1));
    queue.queueSettled(env, ctx, 'payer-b', row(2));
    await vi.advanceTimersByTimeAsync(queue.SETTLED_FLUSH_MS - 1);
    expect(ledgers.count()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ledgers.written).toEqual(new Map([['payer-a', [row(1)]], ['payer-b', [row(2)]]]));
  });

  it('whose write failed are kept and written by the next flush; a failed claim gives its rows back', async () => {
    ledgers.failNext = 1;
    queue.queueSettled(env, ctx, 'payer-a', row(1));
    await vi.advanceTimersByTimeAsync(queue.SETTLED_FLUSH_MS);
    expect(ledgers.count()).toBe(0);
    expect(console.error).toHaveBeenCalledOnce();
    const taken = queue.takeSettled('payer-a');
    expect(taken).toEqual([row(1)]);
    queue.requeueSettled('payer-a', taken ?? []);
    await vi.advanceTimersByTimeAsync(queue.SETTLED_FLUSH_MS);
    expect(ledgers.written.get('payer-a')).toEqual([row(1)]);
  });

  it('are written at once at 1,024 queued, and never pile up past that bound while the ledger is down', async () => {
    for (let i = 0; i < queue.MAX_QUEUED_SETTLED - 1; i++) queue.queueSettled(env, ctx, `payer-${i}`, row(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(ledgers.count()).toBe(0);
    queue.queueSettled(env, ctx, 'payer-last', row(9999));
    await vi.advanceTimersByTimeAsync(0);
    expect(ledgers.count()).toBe(queue.MAX_QUEUED_SETTLED);
    // A full queue whose flush fails keeps what fits and drops the rest (the rows stay `claimed`, still refusing replays).
    ledgers.failNext = Number.POSITIVE_INFINITY;
    for (let i = 0; i < queue.MAX_QUEUED_SETTLED; i++) queue.queueSettled(env, ctx, 'payer-x', row(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(console.error).toHaveBeenCalled();
    queue.requeueSettled('payer-x', [row(5000), row(5001)]);
    const kept = queue.takeSettled('payer-x') ?? [];
    expect(kept).toHaveLength(queue.MAX_QUEUED_SETTLED);
    expect(kept).not.toContainEqual(row(5000));
  });
});
