import { describe, expect, it } from 'vitest';
import { backoffDelay } from './pusher.js';
import { WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('hands out a key once however often it was added', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    queue.add('a/x');
    queue.add('a/y');
    expect(await queue.take()).toEqual(['a/x', 'a/y']);
    expect(queue.length).toBe(0);
  });

  it('a key added while it is processed comes back after done, never concurrently', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    const [key] = await queue.take();
    queue.add('a/x');
    expect(queue.length).toBe(0);
    queue.done([key ?? '']);
    expect(await queue.take()).toEqual(['a/x']);
  });

  it('addAfter keeps the earliest due time and wakes the taker then', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a/x', 5_000);
    queue.addAfter('a/x', 30);
    const started = Date.now();
    expect(await queue.take()).toEqual(['a/x']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a key due further out than setTimeout can wait (~24.8 days) does not make the taker spin', async () => {
    let clockReads = 0;
    const queue = new WorkQueue(() => {
      clockReads += 1;
      return Date.now();
    });
    queue.addAfter('apis/legacy', 40 * 24 * 3_600_000);
    const taken = queue.take();
    await new Promise((resolve) => setTimeout(resolve, 100));
    queue.close();
    expect(await taken).toEqual([]);
    expect(clockReads).toBeLessThan(5);
  });

  it('take(max) hands out at most max due keys, oldest first, and leaves the rest due', async () => {
    const queue = new WorkQueue();
    for (const key of ['a/1', 'a/2', 'a/3']) queue.add(key);
    expect(await queue.take(2)).toEqual(['a/1', 'a/2']);
    expect(queue.length).toBe(1);
    expect(await queue.take(2)).toEqual(['a/3']);
  });

  it('a failing key backs off per key, doubling to the cap, and starts over once it succeeded', () => {
    let now = 0;
    const queue = new WorkQueue(() => now, { backoffBaseMs: 1000, backoffMaxMs: 8000 }, () => 1);
    const delays = Array.from({ length: 6 }, () => queue.retryLater('a/x').delayMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(queue.retryLater('a/other')).toEqual({ delayMs: 1000, attempt: 1 });
    queue.forget('a/x');
    expect(queue.retryLater('a/x')).toEqual({ delayMs: 1000, attempt: 1 });
    queue.close();
  });

  it('a retried key is due only after its delay', async () => {
    let now = 0;
    const queue = new WorkQueue(() => now, { backoffBaseMs: 1000, backoffMaxMs: 8000 }, () => 1);
    queue.retryLater('a/x');
    now = 999;
    queue.add('a/y');
    expect(await queue.take()).toEqual(['a/y']);
    now = 1000;
    expect(await queue.take()).toEqual(['a/x']);
  });

  it('close releases a waiting taker with no keys', async () => {
    const queue = new WorkQueue();
    const taken = queue.take();
    queue.close();
    expect(await taken).toEqual([]);
  });
});

describe('backoffDelay', () => {
  const timing = { backoffBaseMs: 100, backoffMaxMs: 1000 };
  it('doubles per attempt with jitter in the upper half, capped', () => {
    expect(backoffDelay(0, timing, () => 0)).toBe(50);
    expect(backoffDelay(0, timing, () => 1)).toBe(100);
    expect(backoffDelay(3, timing, () => 0)).toBe(400);
    expect(backoffDelay(3, timing, () => 1)).toBe(800);
    expect(backoffDelay(20, timing, () => 1)).toBe(1000);
    expect(backoffDelay(20, timing, () => 0)).toBe(500);
  });
});
