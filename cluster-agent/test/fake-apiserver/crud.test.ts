import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiextensionsV1Api, ApisApi, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from './server.js';
import { apiFailure, offerBody, SO } from './fixtures.js';

let fake: FakeApiServer;
let api: CustomObjectsApi;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

type Obj = { metadata: Record<string, unknown> & { resourceVersion: string; generation?: number }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

beforeEach(async () => {
  fake = await startFakeApiServer();
  api = fake.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterEach(async () => fake.stop());

const create = (name: string, extra?: Parameters<typeof offerBody>[1], namespace = 'default') =>
  api.createNamespacedCustomObject({ ...SO, namespace, body: offerBody(name, extra) }) as Promise<Obj>;
const get = (name: string) => api.getNamespacedCustomObject({ ...SO, namespace: 'default', name }) as Promise<Obj>;

describe('discovery', () => {
  it('serves /api, /apis and the group-version resource lists the client asks for', async () => {
    const groups = await fake.kubeConfig.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['obol.org', 'coordination.k8s.io', 'gateway.networking.k8s.io', 'apiextensions.k8s.io']));
    const auth = { headers: { Authorization: 'Bearer fake-token' } };
    const core = (await (await fetch(`${fake.url}/api`, auth)).json()) as { versions: string[] };
    expect(core.versions).toEqual(['v1']);
    const list = (await (await fetch(`${fake.url}/apis/obol.org/v1alpha1`, auth)).json()) as { resources: Array<{ name: string; namespaced: boolean; shortNames?: string[] }> };
    expect(list.resources.map((r) => r.name)).toEqual(['serviceoffers', 'serviceoffers/status']);
    expect(list.resources[0]).toMatchObject({ namespaced: true, shortNames: ['so'] });
  });

  it('answers an unknown path with a 404 Status and a wrong token with 401', async () => {
    const res = await fetch(`${fake.url}/apis/nope.io/v1/things`, { headers: { Authorization: 'Bearer fake-token' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    const bad = new KubeConfig();
    bad.loadFromOptions({
      clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'wrong' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    expect(await apiFailure(bad.makeApiClient(CustomObjectsApi).listClusterCustomObject({ ...SO }))).toMatchObject({ code: 401 });
    const raw = await fetch(`${fake.url}/apis/obol.org/v1alpha1/serviceoffers`, { headers: { Authorization: 'Bearer wrong' } });
    expect(await raw.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});

describe('create / get / list', () => {
  it('create sets uid, creationTimestamp, generation 1 and a resourceVersion; a second create is 409 AlreadyExists', async () => {
    const before = Number(fake.store.resourceVersion());
    const made = await create('alpha');
    expect(made.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.metadata.creationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(made.metadata.generation).toBe(1);
    expect(Number(made.metadata.resourceVersion)).toBeGreaterThan(before);
    expect(await get('alpha')).toEqual(made);
    expect(await apiFailure(create('alpha'))).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'serviceoffers.obol.org "alpha" already exists' });
  });

  it('create drops status (status subresource) and refuses a missing namespace with 404', async () => {
    const body = { ...offerBody('beta'), status: { observedGeneration: 7 } };
    const made = (await api.createNamespacedCustomObject({ ...SO, namespace: 'default', body })) as Obj;
    expect(made.status).toBeUndefined();
    expect(await apiFailure(create('gamma', {}, 'no-such-ns'))).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "no-such-ns" not found' });
    expect(fake.store.get('serviceoffers', 'no-such-ns', 'gamma')).toBeUndefined();
  });

  it('get of a missing object is a 404 NotFound Status', async () => {
    expect(await apiFailure(get('missing'))).toEqual({ code: 404, reason: 'NotFound', message: 'serviceoffers.obol.org "missing" not found' });
  });

  it('lists cluster-wide and per namespace, filters by label selector, and reports the current resourceVersion', async () => {
    fake.store.put('namespaces', { metadata: { name: 'shop' } });
    await create('a', { labels: { tier: 'gold' } });
    await create('b', { labels: { tier: 'free' } });
    await create('c', {}, 'shop');
    const all = (await api.listClusterCustomObject({ ...SO })) as { items: Obj[]; metadata: { resourceVersion: string } };
    expect(all.items.map((o) => `${String(o.metadata.namespace)}/${String(o.metadata.name)}`)).toEqual(['default/a', 'default/b', 'shop/c']);
    expect(all.metadata.resourceVersion).toBe(fake.store.resourceVersion());
    const shop = (await api.listNamespacedCustomObject({ ...SO, namespace: 'shop' })) as { items: Obj[] };
    expect(shop.items.map((o) => o.metadata.name)).toEqual(['c']);
    const names = async (labelSelector: string) => ((await api.listClusterCustomObject({ ...SO, labelSelector })) as { items: Obj[] }).items.map((o) => o.metadata.name);
    expect(await names('tier=gold')).toEqual(['a']);
    expect(await names('tier!=gold')).toEqual(['b', 'c']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!tier')).toEqual(['c']);
    expect(await apiFailure(api.listClusterCustomObject({ ...SO, labelSelector: 'tier in (gold)' }))).toMatchObject({ code: 400, reason: 'BadRequest' });
  });
});

describe('update (PUT)', () => {
  it('a stale resourceVersion is 409 Conflict and changes nothing; a fresh one bumps generation on a spec change', async () => {
    const made = await create('alpha');
    const fresh = { ...made, spec: { ...made.spec, drainAt: '2026-11-23T10:00:00Z' } };
    const updated = (await api.replaceNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: fresh })) as Obj;
    expect(updated.metadata.generation).toBe(2);
    const stale = { ...made, spec: { ...made.spec, drainGracePeriod: '5m' } };
    const failure = await apiFailure(api.replaceNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: stale }));
    expect(failure).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(failure.message).toContain('the object has been modified');
    expect((await get('alpha')).spec?.drainGracePeriod).toBeUndefined();
  });

  it('metadata-only changes keep the generation; an update without resourceVersion is 422 for custom resources', async () => {
    const made = await create('alpha');
    const relabelled = (await api.replaceNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { ...made, metadata: { ...made.metadata, labels: { x: 'y' } } } })) as Obj;
    expect(relabelled.metadata.generation).toBe(1);
    expect(relabelled.metadata.labels).toEqual({ x: 'y' });
    const { resourceVersion: _rv, ...noRv } = relabelled.metadata;
    expect(await apiFailure(api.replaceNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { ...relabelled, metadata: noRv } }))).toMatchObject({ code: 422, reason: 'Invalid' });
  });

  it('a no-op write returns the object without a new resourceVersion', async () => {
    const made = await create('alpha');
    const again = (await api.replaceNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: made })) as Obj;
    expect(again.metadata.resourceVersion).toBe(made.metadata.resourceVersion);
  });
});

describe('patch', () => {
  it('merge patch sets and (with null) removes fields, bumping generation only for spec changes', async () => {
    await create('alpha');
    const drained = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { spec: { drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' } } }, merge)) as Obj;
    expect(drained.spec).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s', upstream: { service: 'ollama' } });
    expect(drained.metadata.generation).toBe(2);
    const resumed = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { spec: { drainAt: null, drainGracePeriod: null } } }, merge)) as Obj;
    expect(resumed.spec?.drainAt).toBeUndefined();
    expect(resumed.spec?.drainGracePeriod).toBeUndefined();
    expect(resumed.metadata.generation).toBe(3);
    const labelled = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { metadata: { labels: { a: 'b' } } } }, merge)) as Obj;
    expect(labelled.metadata.generation).toBe(3);
  });

  it('a merge patch carrying a stale resourceVersion is 409 Conflict', async () => {
    const made = await create('alpha');
    await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { metadata: { labels: { a: 'b' } } } }, merge);
    const body = { metadata: { resourceVersion: made.metadata.resourceVersion }, spec: { drainAt: '2026-11-23T10:00:00Z' } };
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body }, merge))).toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('JSON patch applies add/replace/remove in order; a failing test op is 422 and changes nothing', async () => {
    const made = await create('alpha');
    const ops = [
      { op: 'add', path: '/spec/drainAt', value: '2026-11-23T10:00:00Z' },
      { op: 'replace', path: '/spec/upstream/service', value: 'vllm' },
      { op: 'add', path: '/metadata/finalizers', value: ['obol.org/x'] },
      { op: 'remove', path: '/metadata/finalizers/0' },
    ];
    const patched = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: ops }, jsonPatch)) as Obj;
    expect(patched.spec).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', upstream: { service: 'vllm' } });
    expect(patched.metadata.finalizers).toEqual([]);
    const failing = [{ op: 'test', path: '/spec/upstream/service', value: 'ollama' }, { op: 'remove', path: '/spec/drainAt' }];
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: failing }, jsonPatch))).toMatchObject({ code: 422, reason: 'Invalid' });
    expect((await get('alpha')).spec?.drainAt).toBe('2026-11-23T10:00:00Z');
    expect(Number(made.metadata.resourceVersion)).toBeLessThan(Number(patched.metadata.resourceVersion));
  });

  it('strategic merge is refused (415) for custom resources like the real server, and merges for built-ins', async () => {
    await create('alpha');
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { spec: {} } }, strategic))).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    const core = fake.kubeConfig.makeApiClient(CoreV1Api);
    const ns = await core.patchNamespace({ name: 'default', body: { metadata: { labels: { team: 'sell' } } } }, strategic);
    expect(ns.metadata?.labels).toEqual({ team: 'sell' });
  });

  it('patching a missing object is 404', async () => {
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'ghost', body: { spec: {} } }, merge))).toMatchObject({ code: 404 });
  });
});

describe('status subresource', () => {
  it('status writes change only status and keep generation; main writes ignore status', async () => {
    await create('alpha');
    const withStatus = (await api.patchNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body: { status: { observedGeneration: 1 }, spec: { drainAt: '2026-11-23T10:00:00Z' } } }, merge)) as Obj;
    expect(withStatus.status).toEqual({ observedGeneration: 1 });
    expect(withStatus.spec?.drainAt).toBeUndefined();
    expect(withStatus.metadata.generation).toBe(1);
    const main = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { status: { observedGeneration: 99 } } }, merge)) as Obj;
    expect(main.status).toEqual({ observedGeneration: 1 });
    expect(main.metadata.resourceVersion).toBe(withStatus.metadata.resourceVersion);
  });

  it('replace status with a stale resourceVersion is 409; the forced-conflict fault fails exactly the next status write', async () => {
    const made = await create('alpha');
    const ok = (await api.replaceNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body: { ...made, status: { observedGeneration: 1 } } })) as Obj;
    expect(ok.status).toEqual({ observedGeneration: 1 });
    expect(await apiFailure(api.replaceNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body: { ...made, status: {} } }))).toMatchObject({ code: 409, reason: 'Conflict' });
    fake.faults.conflictNextStatusWrite();
    const body = { status: { observedGeneration: 2 } };
    expect(await apiFailure(api.patchNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body }, merge))).toMatchObject({ code: 409 });
    expect(((await api.patchNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body }, merge)) as Obj).status).toEqual(body.status);
  });
});

describe('delete and finalizers', () => {
  it('delete without finalizers removes the object; deleting again is 404', async () => {
    await create('alpha');
    await api.deleteNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha' });
    expect(fake.store.get('serviceoffers', 'default', 'alpha')).toBeUndefined();
    expect(await apiFailure(api.deleteNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha' }))).toMatchObject({ code: 404 });
  });

  it('finalizers hold a deleted object with deletionTimestamp until the last one is removed', async () => {
    await create('alpha', { finalizers: ['obol.org/route'] });
    const held = (await api.deleteNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha' })) as Obj;
    expect(held.metadata.deletionTimestamp).toMatch(/Z$/);
    expect((await get('alpha')).metadata.deletionTimestamp).toBe(held.metadata.deletionTimestamp);
    const addFinalizer = { metadata: { finalizers: ['obol.org/route', 'obol.org/other'] } };
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: addFinalizer }, merge))).toMatchObject({ code: 422 });
    await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { metadata: { finalizers: null } } }, merge);
    expect(await apiFailure(get('alpha'))).toMatchObject({ code: 404 });
  });
});

describe('leases, CRDs and faults', () => {
  it('leases: create, read, conditional replace (409 when stale)', async () => {
    const coord = fake.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({ namespace: 'obol-system', body: { metadata: { name: 'obol-agent' }, spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15 } } });
    const read = await coord.readNamespacedLease({ namespace: 'obol-system', name: 'obol-agent' });
    expect(read.spec?.holderIdentity).toBe('pod-a');
    const taken = await coord.replaceNamespacedLease({ namespace: 'obol-system', name: 'obol-agent', body: { ...read, spec: { ...read.spec, holderIdentity: 'pod-b' } } });
    expect(taken.spec?.holderIdentity).toBe('pod-b');
    const failure = await apiFailure(coord.replaceNamespacedLease({ namespace: 'obol-system', name: 'obol-agent', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'pod-c' } } }));
    expect(failure).toMatchObject({ code: 409, reason: 'Conflict' });
    expect((await coord.readNamespacedLease({ namespace: 'obol-system', name: 'obol-agent' })).spec?.holderIdentity).toBe('pod-b');
  });

  it('customresourcedefinitions can be created and read (cluster-scoped)', async () => {
    const ext = fake.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: { metadata: { name: 'serviceoffers.obol.org' }, spec: { group: 'obol.org', names: { plural: 'serviceoffers', kind: 'ServiceOffer' }, scope: 'Namespaced', versions: [] } } });
    const crd = await ext.readCustomResourceDefinition({ name: 'serviceoffers.obol.org' });
    expect(crd.metadata?.generation).toBe(1);
  });

  it('failNextRequests makes exactly the next N requests 500 InternalError', async () => {
    fake.faults.failNextRequests(2);
    expect(await apiFailure(api.listClusterCustomObject({ ...SO }))).toMatchObject({ code: 500, reason: 'InternalError' });
    expect(await apiFailure(api.listClusterCustomObject({ ...SO }))).toMatchObject({ code: 500 });
    await expect(api.listClusterCustomObject({ ...SO })).resolves.toMatchObject({ items: [] });
  });

  it('kubeconfigPath is a usable kubeconfig file for child processes', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(fake.kubeconfigPath);
    await create('alpha');
    const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ ...SO, namespace: 'default' })) as { items: Obj[] };
    expect(list.items.map((o) => o.metadata.name)).toEqual(['alpha']);
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/apis/obol.org/v1alpha1/namespaces/default/serviceoffers')).toBe(true);
  });
});
