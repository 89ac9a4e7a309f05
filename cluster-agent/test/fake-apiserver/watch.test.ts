import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, Watch, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from './server.js';
import { eventually, offerBody, SO } from './fixtures.js';

let fake: FakeApiServer;
let api: CustomObjectsApi;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const PATH = '/apis/obol.org/v1alpha1/serviceoffers';

interface Seen {
  type: string;
  name: string | undefined;
  rv: string | undefined;
  code?: number;
}

beforeEach(async () => {
  fake = await startFakeApiServer({ historyLimit: 5, bookmarkIntervalMs: 60_000 });
  api = fake.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterEach(async () => fake.stop());

const create = (name: string) => api.createNamespacedCustomObject({ ...SO, namespace: 'default', body: offerBody(name) }) as Promise<KubernetesObject>;
const patch = (name: string, body: unknown) => api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name, body }, merge);

/** Open a watch with the real client and record what it delivers. */
async function openWatch(query: Record<string, string | boolean | number>) {
  const seen: Seen[] = [];
  let done: { err: unknown } | undefined;
  const controller = await new Watch(fake.kubeConfig).watch(
    PATH,
    query,
    (type, obj: { metadata?: { name?: string; resourceVersion?: string }; code?: number }) => {
      seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, ...(obj.code !== undefined ? { code: obj.code } : {}) });
    },
    (err: unknown) => void (done = { err }),
  );
  return { seen, controller, isDone: () => done !== undefined, doneError: () => done?.err };
}

describe('watch', () => {
  it('resolves at once and streams ADDED, MODIFIED and DELETED (a store deletion) with increasing resourceVersions', async () => {
    const w = await openWatch({ allowWatchBookmarks: true });
    expect(fake.openWatches()).toBe(1);
    await create('alpha');
    await patch('alpha', { spec: { drainAt: '2026-11-23T10:00:00Z' } });
    fake.store.delete('serviceoffers', 'default', 'alpha');
    await eventually(() => w.seen.length === 3);
    expect(w.seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    const rvs = w.seen.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(new Set(rvs).size).toBe(3);
    w.controller.abort();
  });

  it('without a resourceVersion it first replays current objects as ADDED', async () => {
    await create('alpha');
    await create('beta');
    const w = await openWatch({});
    await eventually(() => w.seen.length === 2);
    expect(w.seen.map((e) => `${e.type}:${String(e.name)}`)).toEqual(['ADDED:alpha', 'ADDED:beta']);
    w.controller.abort();
  });

  it('resumes from a resourceVersion: only later events are replayed', async () => {
    const first = await create('alpha');
    await create('beta');
    await patch('alpha', { metadata: { labels: { x: 'y' } } });
    const w = await openWatch({ resourceVersion: String(first.metadata?.resourceVersion) });
    await eventually(() => w.seen.length === 2);
    expect(w.seen.map((e) => `${e.type}:${String(e.name)}`)).toEqual(['ADDED:beta', 'MODIFIED:alpha']);
    w.controller.abort();
  });

  it('a resourceVersion older than the compaction window gets an ERROR event with a 410 Status, then the stream ends', async () => {
    const first = await create('alpha');
    for (let i = 0; i < 6; i += 1) await patch('alpha', { metadata: { labels: { n: String(i) } } });
    const w = await openWatch({ resourceVersion: String(first.metadata?.resourceVersion) });
    await eventually(() => w.isDone());
    expect(w.seen).toEqual([{ type: 'ERROR', name: undefined, rv: undefined, code: 410 }]);
    const res = await fetch(`${fake.url}${PATH}?watch=true&resourceVersion=1`, { headers: { Authorization: 'Bearer fake-token' } });
    expect(JSON.parse((await res.text()).trim())).toMatchObject({ type: 'ERROR', object: { kind: 'Status', reason: 'Expired', code: 410 } });
  });

  it('sends BOOKMARK events with the current resourceVersion only when bookmarks are allowed', async () => {
    const withMarks = await openWatch({ allowWatchBookmarks: true, resourceVersion: fake.store.resourceVersion() });
    const without = await openWatch({ resourceVersion: fake.store.resourceVersion() });
    await create('alpha');
    fake.faults.sendBookmarks();
    await eventually(() => withMarks.seen.length === 2);
    expect(withMarks.seen[1]).toMatchObject({ type: 'BOOKMARK', rv: fake.store.resourceVersion() });
    await eventually(() => without.seen.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(without.seen.map((e) => e.type)).toEqual(['ADDED']);
    withMarks.controller.abort();
    without.controller.abort();
  });

  it('dropWatches closes every open stream and the client sees done', async () => {
    const a = await openWatch({});
    const b = await openWatch({});
    fake.faults.dropWatches();
    await eventually(() => a.isDone() && b.isDone());
    expect(a.doneError()).toBeNull();
    await eventually(() => fake.openWatches() === 0);
  });

  it('bad resourceVersion on a watch is a 400 Status', async () => {
    const res = await fetch(`${fake.url}${PATH}?watch=true&resourceVersion=abc`, { headers: { Authorization: 'Bearer fake-token' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});

describe('makeInformer', () => {
  const list = () => api.listClusterCustomObject({ ...SO }) as Promise<KubernetesListObject<KubernetesObject>>;
  const names = (inf: ObjectCache<KubernetesObject>) => inf.list().map((o) => o.metadata?.name).sort();

  it('lists, then follows add/update/delete (a store deletion) through the watch', async () => {
    await create('alpha');
    const informer = makeInformer(fake.kubeConfig, PATH, list);
    const events: string[] = [];
    informer.on('add', (o) => events.push(`add:${String(o.metadata?.name)}`));
    informer.on('update', (o) => events.push(`update:${String(o.metadata?.name)}`));
    informer.on('delete', (o) => events.push(`delete:${String(o.metadata?.name)}`));
    await informer.start();
    await create('beta');
    await patch('alpha', { spec: { drainAt: '2026-11-23T10:00:00Z' } });
    fake.store.delete('serviceoffers', 'default', 'beta');
    await eventually(() => events.length === 4);
    expect(events).toEqual(['add:alpha', 'add:beta', 'update:alpha', 'delete:beta']);
    await informer.stop();
  });

  it('reconnects after dropped watches and, after compaction (410), relists and catches up on missed deletes', async () => {
    await create('alpha');
    await create('beta');
    const informer = makeInformer(fake.kubeConfig, PATH, list);
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    fake.faults.dropWatches();
    await eventually(() => fake.openWatches() === 1);
    await create('gamma');
    await eventually(() => names(informer).includes('gamma'));
    // While the informer is connected, make it miss history: compact, drop, and delete behind its back.
    fake.store.compact();
    fake.store.delete('serviceoffers', 'default', 'beta');
    fake.store.compact();
    fake.faults.dropWatches();
    await eventually(() => names(informer).join(',') === 'alpha,gamma');
    expect(errors).toEqual([]);
    await informer.stop();
  });
});
