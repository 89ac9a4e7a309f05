import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startFakeApiServer, type FakeApiServer } from './server.js';
import { apiFailure, offerBody, SO } from './fixtures.js';

/** The fake's requests and answers, with the real client: what the fault-injection tests and the agent bench rely on. */

let fake: FakeApiServer;
let api: CustomObjectsApi;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Obj = { metadata: Record<string, unknown> & { resourceVersion: string; generation?: number }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

beforeEach(async () => {
  fake = await startFakeApiServer();
  api = fake.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterEach(async () => fake.stop());

const create = (name: string, namespace = 'default') => api.createNamespacedCustomObject({ ...SO, namespace, body: offerBody(name) }) as Promise<Obj>;
const get = (name: string) => api.getNamespacedCustomObject({ ...SO, namespace: 'default', name }) as Promise<Obj>;

describe('requests it does not serve', () => {
  it('answers an unknown path with a 404 Status, a wrong token with 401, a selector with 400 and DELETE with 405', async () => {
    const auth = { headers: { Authorization: 'Bearer fake-token' } };
    const res = await fetch(`${fake.url}/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes`, auth);
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
    expect(await apiFailure(api.listClusterCustomObject({ ...SO, labelSelector: 'tier=gold' }))).toMatchObject({ code: 400, reason: 'BadRequest' });
    await create('alpha');
    expect(await apiFailure(api.deleteNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha' }))).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
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
    expect(await apiFailure(create('gamma', 'no-such-ns'))).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "no-such-ns" not found' });
    expect(fake.store.get('serviceoffers', 'no-such-ns', 'gamma')).toBeUndefined();
  });

  it('get of a missing object is a 404 NotFound Status', async () => {
    expect(await apiFailure(get('missing'))).toEqual({ code: 404, reason: 'NotFound', message: 'serviceoffers.obol.org "missing" not found' });
  });

  it('lists cluster-wide and per namespace, sorted, with the current resourceVersion', async () => {
    fake.store.put('namespaces', { metadata: { name: 'shop' } });
    await create('b');
    await create('a');
    await create('c', 'shop');
    const all = (await api.listClusterCustomObject({ ...SO })) as { items: Obj[]; metadata: { resourceVersion: string } };
    expect(all.items.map((o) => `${String(o.metadata.namespace)}/${String(o.metadata.name)}`)).toEqual(['default/a', 'default/b', 'shop/c']);
    expect(all.metadata.resourceVersion).toBe(fake.store.resourceVersion());
    const shop = (await api.listNamespacedCustomObject({ ...SO, namespace: 'shop' })) as { items: Obj[] };
    expect(shop.items.map((o) => o.metadata.name)).toEqual(['c']);
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

describe('merge patch', () => {
  it('sets and (with null) removes fields, bumping generation only for spec changes', async () => {
    await create('alpha');
    const drained = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { spec: { drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' } } }, merge)) as Obj;
    expect(drained.spec).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s', upstream: { service: 'ollama' } });
    expect(drained.metadata.generation).toBe(2);
    const resumed = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { spec: { drainAt: null, drainGracePeriod: null } } }, merge)) as Obj;
    expect(resumed.spec?.drainAt).toBeUndefined();
    expect(resumed.spec?.drainGracePeriod).toBeUndefined();
    expect(resumed.metadata.generation).toBe(3);
    const finalized = (await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { metadata: { finalizers: ['obol.org/catalog'] } } }, merge)) as Obj;
    expect(finalized.metadata.finalizers).toEqual(['obol.org/catalog']);
    expect(finalized.metadata.generation).toBe(3);
  });

  it('a merge patch carrying a stale resourceVersion is 409 Conflict; a missing object is 404', async () => {
    const made = await create('alpha');
    await api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: { metadata: { labels: { a: 'b' } } } }, merge);
    const body = { metadata: { resourceVersion: made.metadata.resourceVersion }, spec: { drainAt: '2026-11-23T10:00:00Z' } };
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body }, merge))).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'ghost', body: { spec: {} } }, merge))).toMatchObject({ code: 404 });
  });

  it('any other patch type (JSON patch, server-side apply) is 415', async () => {
    await create('alpha');
    const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: [] }, jsonPatch))).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(await apiFailure(api.patchNamespacedCustomObject({ ...SO, namespace: 'default', name: 'alpha', body: offerBody('alpha'), fieldManager: 'x' }, apply))).toMatchObject({ code: 415 });
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

  it('replace status with a stale resourceVersion is 409', async () => {
    const made = await create('alpha');
    const ok = (await api.replaceNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body: { ...made, status: { observedGeneration: 1 } } })) as Obj;
    expect(ok.status).toEqual({ observedGeneration: 1 });
    expect(await apiFailure(api.replaceNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body: { ...made, status: {} } }))).toMatchObject({ code: 409, reason: 'Conflict' });
  });
});

describe('fault injection and test access', () => {
  it('conflictNextStatusWrite fails exactly the next status write with 409', async () => {
    await create('alpha');
    fake.faults.conflictNextStatusWrite();
    const body = { status: { observedGeneration: 2 } };
    expect(await apiFailure(api.patchNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body }, merge))).toMatchObject({ code: 409 });
    expect(((await api.patchNamespacedCustomObjectStatus({ ...SO, namespace: 'default', name: 'alpha', body }, merge)) as Obj).status).toEqual(body.status);
  });

  it('failNextRequests makes exactly the next N requests 500 InternalError', async () => {
    fake.faults.failNextRequests(2);
    expect(await apiFailure(api.listClusterCustomObject({ ...SO }))).toMatchObject({ code: 500, reason: 'InternalError' });
    expect(await apiFailure(api.listClusterCustomObject({ ...SO }))).toMatchObject({ code: 500 });
    await expect(api.listClusterCustomObject({ ...SO })).resolves.toMatchObject({ items: [] });
  });

  it('store.put and store.delete bypass the API rules but advance the resourceVersion', async () => {
    const rv = Number(fake.store.resourceVersion());
    const put = fake.store.put('serviceoffers', { ...offerBody('alpha'), metadata: { name: 'alpha', namespace: 'default' } });
    expect(Number((put.metadata as { resourceVersion: string }).resourceVersion)).toBe(rv + 1);
    expect((await get('alpha')).metadata.generation).toBe(1);
    expect(fake.store.delete('serviceoffers', 'default', 'alpha')).toBe(true);
    expect(Number(fake.store.resourceVersion())).toBe(rv + 2);
    expect(await apiFailure(get('alpha'))).toMatchObject({ code: 404 });
  });

  it('kubeconfigPath is a usable kubeconfig file for child processes; requests are recorded', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(fake.kubeconfigPath);
    await create('alpha');
    const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ ...SO, namespace: 'default' })) as { items: Obj[] };
    expect(list.items.map((o) => o.metadata.name)).toEqual(['alpha']);
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/apis/obol.org/v1alpha1/namespaces/default/serviceoffers')).toBe(true);
  });
});
