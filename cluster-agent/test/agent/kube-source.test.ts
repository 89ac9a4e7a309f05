import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import type { LeaderElectionConfig } from '../../src/agent/config.js';
import { CATALOG_FINALIZER } from '../../src/agent/finalizer.js';
import type { CatalogSigner } from '../../src/publish/signer.js';
import type { JsonObject } from '../fake-apiserver/patch.js';
import { startFakeApiServer, type FakeApiServer } from '../fake-apiserver/server.js';
import { startEdgeProxy, type EdgeProxy } from './edge-proxy.js';
import { memoryLogger, offerManifest, startUpstream, testAgentConfig, testSigner, waitFor } from './support.js';

/**
 * The agent with `--source kube`: the real `@kubernetes/client-node` against the fake API server,
 * the real edge in workerd behind a recording proxy.
 */

const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', namespace: 'default' } as const;
const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: 'default' } as const;

let fake: FakeApiServer;
let api: CustomObjectsApi;
let signer: CatalogSigner;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let edge: TestEdge;
let proxy: EdgeProxy;
const agents: RunningAgent[] = [];

interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime: string }
interface Offer { metadata: { uid: string; generation: number; finalizers?: string[]; deletionTimestamp?: string }; status?: { observedGeneration?: number; conditions?: Condition[] } }

const getOffer = async (name: string): Promise<Offer | undefined> => api.getNamespacedCustomObject({ ...SO, name }).catch(() => undefined);
const getRoute = async (name: string): Promise<Record<string, unknown> | undefined> => api.getNamespacedCustomObject({ ...ROUTES, name: `obol-${name}` }).catch(() => undefined);
const condition = (offer: Offer | undefined, type: string) => offer?.status?.conditions?.find((c) => c.type === type);
const edgeKeys = async (): Promise<string[]> => {
  const res = await edge.fetch('/_obol/v1/catalog');
  return res.status === 200 ? ((await res.json()) as { offers: { key: string }[] }).offers.map((o) => o.key) : [];
};

function lease(identity: string): LeaderElectionConfig {
  return { namespace: 'default', name: 'obol-edge-agent', identity, leaseDurationMs: 1000, renewDeadlineMs: 800, retryPeriodMs: 100 };
}

async function kubeAgent(extra: Partial<Parameters<typeof testAgentConfig>[0]> = {}): Promise<RunningAgent> {
  const agent = await startAgent(
    testAgentConfig({
      source: { kind: 'kube', kubeConfig: fake.kubeConfig, namespaces: [] },
      edgeUrl: proxy.url,
      signer,
      log: memoryLogger().log,
      gateway: { namespace: 'gateway-system', name: 'public' },
      ...extra,
    }),
  );
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  fake = await startFakeApiServer({ bookmarkIntervalMs: 200 });
  api = fake.kubeConfig.makeApiClient(CustomObjectsApi);
  signer = testSigner();
  upstream = await startUpstream();
  edge = await startEdge({ vars: { CATALOG_SIGNERS: signer.address, METRICS_TOKEN: 'kube-test-token' } });
  proxy = await startEdgeProxy(edge.url);
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  for (const offer of fake.store.list('serviceoffers')) {
    const meta = offer.metadata as { namespace: string; name: string };
    fake.store.delete('serviceoffers', meta.namespace, meta.name);
  }
});

afterAll(async () => {
  await proxy?.close();
  await edge?.dispose();
  await upstream?.close();
  await fake?.stop();
});

describe('agent with the kube source', () => {
  it('writes conditions through the status subresource, adds its finalizer and creates the owned HTTPRoute', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    await kubeAgent();
    const ready = await waitFor('Ready=True', async () => {
      const offer = await getOffer('qwen');
      return condition(offer, 'Ready')?.status === 'True' ? offer : undefined;
    });
    expect(Object.fromEntries((ready?.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]))).toEqual({
      UpstreamHealthy: 'True/Healthy',
      RoutePublished: 'True/RoutePublished',
      PaymentGateReady: 'True/Acknowledged',
      PathConflict: 'False/PathOwned',
      Draining: 'False/Active',
      Ready: 'True/Ready',
    });
    expect(ready?.status?.observedGeneration).toBe(1);
    expect(ready?.metadata.finalizers).toContain(CATALOG_FINALIZER);
    expect(fake.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/serviceoffers/qwen/status'))).toBe(true);
    expect(fake.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/serviceoffers/qwen'))).toBe(false);
    const route = (await getRoute('qwen')) as { metadata: { ownerReferences: { uid: string; kind: string }[] }; spec: { parentRefs: unknown[]; rules: { matches: unknown[]; filters: unknown[]; backendRefs: unknown[] }[] } };
    expect(route.metadata.ownerReferences[0]).toMatchObject({ kind: 'ServiceOffer', uid: ready?.metadata.uid });
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateway-system', name: 'public' }]);
    expect(route.spec.rules[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/services/qwen' } }]);
    expect(route.spec.rules[0]?.filters).toEqual([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }]);
    expect(route.spec.rules[0]?.backendRefs).toEqual([{ name: 'ollama', port: 11434 }]);
    expect(await edgeKeys()).toEqual(['default/qwen']);
  });

  it('with --namespaces it watches only the listed namespaces', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    await api.createNamespacedCustomObject({ ...SO, namespace: 'obol-system', body: offerManifest('other', upstream.url, {}, 'obol-system') });
    const mark = fake.requests.length;
    await kubeAgent({ source: { kind: 'kube', kubeConfig: fake.kubeConfig, namespaces: ['default'] }, gateway: undefined });
    await waitFor('qwen at the edge', async () => (await edgeKeys()).join() === 'default/qwen');
    const other = (await api.getNamespacedCustomObject({ ...SO, namespace: 'obol-system', name: 'other' })) as Offer;
    expect(other.status).toBeUndefined();
    const mine = fake.requests.slice(mark);
    expect(mine.some((r) => r.path === '/apis/obol.org/v1alpha1/namespaces/default/serviceoffers')).toBe(true);
    expect(mine.some((r) => r.path === '/apis/obol.org/v1alpha1/serviceoffers')).toBe(false);
  });

  it('an unchanged status is not rewritten, and a 409 on the status write is re-read and retried', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    await kubeAgent();
    await waitFor('Ready=True', async () => condition(await getOffer('qwen'), 'Ready')?.status === 'True');
    const statusWrites = () => fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/qwen/status')).length;
    const settled = statusWrites();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(statusWrites()).toBe(settled);

    fake.faults.conflictNextStatusWrite();
    upstream.setHealth(503);
    try {
      const unhealthy = await waitFor('UpstreamHealthy=False', async () => {
        const c = condition(await getOffer('qwen'), 'UpstreamHealthy');
        return c?.status === 'False' ? c : undefined;
      });
      expect(unhealthy.message).toContain('503');
      expect(statusWrites()).toBeGreaterThanOrEqual(settled + 2);
    } finally {
      upstream.setHealth(200);
    }
  });

  it('a push for another offer does not rewrite an acknowledged offer\'s status', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('alpha', upstream.url, {}, 'default') });
    await kubeAgent({ gateway: undefined });
    const acknowledged = await waitFor('alpha acknowledged', async () => {
      const c = condition(await getOffer('alpha'), 'PaymentGateReady');
      return c?.status === 'True' ? c : undefined;
    });
    const alphaWrites = () => fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/alpha/status')).length;
    const before = alphaWrites();
    const sequenceBefore = Number(((await (await edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number }).sequence);
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('beta', upstream.url, {}, 'default') });
    await waitFor('beta acknowledged', async () => condition(await getOffer('beta'), 'PaymentGateReady')?.status === 'True');
    const sequenceAfter = Number(((await (await edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number }).sequence);
    expect(sequenceAfter).toBeGreaterThan(sequenceBefore);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alphaWrites()).toBe(before);
    expect(condition(await getOffer('alpha'), 'PaymentGateReady')?.message).toBe(acknowledged.message);
  });

  it('misses nothing across a dropped watch and a 410 Expired relist', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('alpha', upstream.url, {}, 'default') });
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('beta', upstream.url, {}, 'default') });
    await kubeAgent({ gateway: undefined });
    await waitFor('alpha and beta at the edge', async () => (await edgeKeys()).length === 2);

    fake.faults.dropWatches();
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('gamma', upstream.url, {}, 'default') });
    await waitFor('gamma after the reconnect', async () => (await edgeKeys()).includes('default/gamma'));

    const listsBefore = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/serviceoffers') && !r.query.includes('watch')).length;
    // In one tick: end the watch, change the store while nobody watches, and forget the history.
    fake.faults.dropWatches();
    fake.store.put('serviceoffers', offerManifest('delta', upstream.url, {}, 'default') as JsonObject);
    fake.store.delete('serviceoffers', 'default', 'alpha');
    fake.store.compact();
    const keys = await waitFor('delta in and alpha out after the relist', async () => {
      const current = await edgeKeys();
      return current.includes('default/delta') && !current.includes('default/alpha') ? current : undefined;
    });
    expect(keys).toEqual(['default/beta', 'default/delta', 'default/gamma']);
    const listsAfter = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/serviceoffers') && !r.query.includes('watch')).length;
    expect(listsAfter).toBeGreaterThan(listsBefore);
    expect(fake.requests.some((r) => r.query.includes('allowWatchBookmarks=true'))).toBe(true);
  });

  it('deletion leaves no route and no catalog entry behind before the finalizer is released', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    await kubeAgent();
    await waitFor('route and catalog entry', async () => (await getRoute('qwen')) !== undefined && (await edgeKeys()).includes('default/qwen'));
    await api.deleteNamespacedCustomObject({ ...SO, name: 'qwen' });
    await waitFor('the offer gone', async () => (await getOffer('qwen')) === undefined);
    expect(await edgeKeys()).toEqual([]);
    expect(await getRoute('qwen')).toBeUndefined();
  });

  it('a draining offer reports its deadline; when the drain ends it is Drained and its route is deleted', async () => {
    const drainAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, { drainAt, drainGracePeriod: '2s' }, 'default') });
    await kubeAgent();
    const draining = await waitFor('Draining=True', async () => {
      const c = condition(await getOffer('qwen'), 'Draining');
      return c?.status === 'True' ? c : undefined;
    });
    expect(draining.message).toBe(`Drain ends at ${new Date(Date.parse(drainAt) + 2000).toISOString().replace('.000Z', 'Z')}`);
    const drained = await waitFor('Draining=False/Drained', async () => {
      const c = condition(await getOffer('qwen'), 'Draining');
      return c?.reason === 'Drained' ? c : undefined;
    }, 6000);
    expect(drained.status).toBe('False');
    await waitFor('route deleted', async () => (await getRoute('qwen')) === undefined);
    // The route's deletion is reported by the status write after it, not necessarily the one that said Drained.
    const routeCondition = await waitFor('RoutePublished=False/Drained', async () => {
      const c = condition(await getOffer('qwen'), 'RoutePublished');
      return c?.reason === 'Drained' ? c : undefined;
    });
    expect(routeCondition).toMatchObject({ status: 'False', reason: 'Drained' });
  });

  it('with two replicas exactly one leads and pushes; the standby takes over when the leader leaves', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    const a = await kubeAgent({ leaderElection: lease('replica-a'), edgeMetricsToken: 'kube-test-token' });
    const b = await kubeAgent({ leaderElection: lease('replica-b'), edgeMetricsToken: 'kube-test-token' });
    await waitFor('a leader', () => a.isLeader() || b.isLeader());
    for (let i = 0; i < 10; i++) {
      expect(a.isLeader() && b.isLeader()).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    await waitFor('leader acknowledged', () => leader.lastAck() !== undefined);
    expect(standby.isReady()).toBe(true);
    expect((await standby.metrics.pushDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0).toBe(0);
    // Only the leader re-exports the edge's metrics, so sums over replicas never double-count.
    const edgeScrapes = () => proxy.requests.filter((r) => r.path === '/_obol/v1/metrics').length;
    const scrapesBefore = edgeScrapes();
    expect((await fetch(`${standby.opsUrl ?? ''}/metrics`)).status).toBe(200);
    expect(edgeScrapes()).toBe(scrapesBefore);
    expect((await fetch(`${leader.opsUrl ?? ''}/metrics`)).status).toBe(200);
    expect(edgeScrapes()).toBe(scrapesBefore + 1);
    await leader.stop();
    await waitFor('the standby leads and pushes', () => standby.isLeader() && standby.lastAck() !== undefined, 5000);
  });

  it('a leader that loses its Lease stops and calls the exit hook', async () => {
    let exited = 0;
    const agent = await kubeAgent({ leaderElection: lease('replica-a'), onLostLeadership: () => exited++ });
    await waitFor('leadership', () => agent.isLeader());
    const stored = fake.store.get('leases', 'default', 'obol-edge-agent') as { spec: Record<string, unknown> } & Record<string, unknown>;
    fake.store.put('leases', { ...stored, spec: { ...stored.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString() } } as JsonObject);
    await waitFor('the exit hook', () => exited === 1, 3000);
    expect(agent.isLeader()).toBe(false);
  });
});
