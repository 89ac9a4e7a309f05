import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../../core/index.js';
import { makeSnapshot, sampleOffer, snapshotBody } from '../../../test/support/snapshots.js';
import { CatalogCache, RECHECK_MS, type CatalogSource } from './cache.js';
import type { StoredHead, StoredSnapshot } from './store.js';

/** An in-memory stand-in for the CatalogStore's read side that counts its calls. */
class MemoryStore implements CatalogSource {
  stored: StoredSnapshot | null = null;
  heads = 0;
  reads = 0;
  down = false;

  put(snapshot: CatalogSnapshot | string, sequence?: number): StoredHead {
    const text = typeof snapshot === 'string' ? snapshot : snapshotBody(snapshot);
    const body = new Uint8Array(Buffer.from(text));
    const head: StoredHead = {
      sequence: sequence ?? (typeof snapshot === 'string' ? 0 : snapshot.sequence),
      issuedAt: '2026-11-23T10:00:00Z',
      receivedAt: '2026-11-23T10:00:01Z',
      signature: `0x${'ab'.repeat(65)}`,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.byteLength,
      offers: 0,
    };
    this.stored = { body, head };
    return head;
  }

  async head(): Promise<StoredHead | null> {
    this.heads++;
    if (this.down) throw new Error('store unreachable');
    return this.stored?.head ?? null;
  }

  async read(): Promise<StoredSnapshot | null> {
    this.reads++;
    if (this.down) throw new Error('store unreachable');
    return this.stored;
  }
}

const T0 = 1_000_000;

describe('CatalogCache', () => {
  it('answers undefined until a snapshot is stored', async () => {
    const store = new MemoryStore();
    const cache = new CatalogCache();
    expect(await cache.current(store, T0)).toBeUndefined();
    expect(store.reads).toBe(0);
  });

  it('re-checks the stored sequence once the last check is a second old, not before', async () => {
    const store = new MemoryStore();
    store.put(makeSnapshot({ sequence: 1 }));
    const cache = new CatalogCache();
    expect((await cache.current(store, T0))?.sequence).toBe(1);
    store.put(makeSnapshot({ sequence: 2 }));
    expect((await cache.current(store, T0 + RECHECK_MS - 1))?.sequence).toBe(1);
    expect(store.heads).toBe(1);
    expect((await cache.current(store, T0 + RECHECK_MS))?.sequence).toBe(2);
    expect(store.heads).toBe(2);
  });

  it('reloads the body only when the stored sequence changed', async () => {
    const store = new MemoryStore();
    store.put(makeSnapshot({ sequence: 7 }));
    const cache = new CatalogCache();
    const first = await cache.current(store, T0);
    for (let i = 1; i <= 5; i++) expect(await cache.current(store, T0 + i * RECHECK_MS)).toBe(first);
    expect(store.heads).toBe(6);
    expect(store.reads).toBe(1);
  });

  it('serves a snapshot installed by this isolate at once, without reading the store', async () => {
    const store = new MemoryStore();
    const snapshot = makeSnapshot({ sequence: 3, offers: [sampleOffer()] });
    const head = store.put(snapshot);
    const cache = new CatalogCache();
    cache.install(snapshot, head, T0);
    const view = await cache.current(store, T0 + 10);
    expect(view?.sequence).toBe(3);
    expect(store.heads + store.reads).toBe(0);
  });

  it('never replaces a newer view with an older one', async () => {
    const store = new MemoryStore();
    const newer = makeSnapshot({ sequence: 9 });
    const cache = new CatalogCache();
    cache.install(newer, store.put(newer), T0);
    const older = makeSnapshot({ sequence: 8 });
    cache.install(older, store.put(older), T0 + 1);
    expect((await cache.current(store, T0 + 2))?.sequence).toBe(9);
    // A store read that raced behind the install does not roll the view back either.
    expect((await cache.current(store, T0 + 5 * RECHECK_MS))?.sequence).toBe(9);
    expect(store.reads).toBe(0);
  });

  it('builds routes by path and memoizes per view; a new snapshot starts a new memo', async () => {
    const store = new MemoryStore();
    const offers = [sampleOffer({ name: 'a' }), sampleOffer({ name: 'b', spec: { path: '/services/b/v1' } })];
    store.put(makeSnapshot({ sequence: 1, offers }));
    const cache = new CatalogCache();
    const view = await cache.current(store, T0);
    expect([...(view?.routes.keys() ?? [])]).toEqual(['/services/a', '/services/b/v1']);
    expect(view?.routes.get('/services/b/v1')?.name).toBe('b');
    let builds = 0;
    const build = (): string => `doc-${++builds}`;
    expect(view?.memo('doc', build)).toBe('doc-1');
    expect(view?.memo('doc', build)).toBe('doc-1');
    store.put(makeSnapshot({ sequence: 2, offers }));
    const next = await cache.current(store, T0 + RECHECK_MS);
    expect(next).not.toBe(view);
    expect(next?.memo('doc', build)).toBe('doc-2');
  });

  it('keeps serving the last good view while the store is unreachable', async () => {
    const store = new MemoryStore();
    store.put(makeSnapshot({ sequence: 4 }));
    const cache = new CatalogCache();
    await cache.current(store, T0);
    store.down = true;
    expect((await cache.current(store, T0 + RECHECK_MS))?.sequence).toBe(4);
  });

  it('keeps the last good view when the stored body fails the schema, and does not re-read it every second', async () => {
    const store = new MemoryStore();
    store.put(makeSnapshot({ sequence: 4 }));
    const cache = new CatalogCache();
    await cache.current(store, T0);
    store.put('{"schemaVersion":"2"}', 5);
    expect((await cache.current(store, T0 + RECHECK_MS))?.sequence).toBe(4);
    expect((await cache.current(store, T0 + 2 * RECHECK_MS))?.sequence).toBe(4);
    expect(store.reads).toBe(2);
  });
});
