import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import type { CatalogSigner } from '../../src/publish/signer.js';
import type { JsonObject } from '../fake-apiserver/patch.js';
import { startFakeApiServer, type FakeApiServer } from '../fake-apiserver/server.js';
import { startEdgeProxy, type EdgeProxy } from './edge-proxy.js';
import { memoryLogger, offerManifest, startUpstream, testAgentConfig, testSigner, waitFor } from './support.js';

/**
 * The agent with `--source kube` under faults a real API server cannot be made to produce on
 * demand: a 409 on a status write, watches dropped (and history compacted) at a chosen moment,
 * 5xx answers. The fake API server injects them; the real `@kubernetes/client-node` and the real
 * edge in workerd do the rest. Everything else the agent does with Kubernetes is tested against a
 * real API server in cluster-agent/test/cluster/. No route management here: the fake cannot apply.
 */

const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', namespace: 'default' } as const;

let fake: FakeApiServer;
let api: CustomObjectsApi;
let signer: CatalogSigner;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let edge: TestEdge;
let proxy: EdgeProxy;
const agents: RunningAgent[] = [];

interface Condition { type: string; status: string; reason: string; message: string }
interface Offer { status?: { conditions?: Condition[] } }

const getOffer = async (name: string): Promise<Offer | undefined> => api.getNamespacedCustomObject({ ...SO, name }).catch(() => undefined);
const condition = (offer: Offer | undefined, type: string) => offer?.status?.conditions?.find((c) => c.type === type);
const edgeKeys = async (): Promise<string[]> => {
  const res = await edge.fetch('/_obol/v1/catalog');
  return res.status === 200 ? ((await res.json()) as { offers: { key: string }[] }).offers.map((o) => o.key) : [];
};
const statusWrites = (name: string) => fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/serviceoffers/${name}/status`)).length;
const offerLists = () => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/serviceoffers') && !r.query.includes('watch')).length;

async function kubeAgent(): Promise<RunningAgent> {
  const agent = await startAgent(
    testAgentConfig({
      source: { kind: 'kube', kubeConfig: fake.kubeConfig, namespaces: [] },
      edgeUrl: proxy.url,
      signer,
      log: memoryLogger().log,
      gateway: undefined,
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
  upstream.setHealth(200);
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

describe('agent with the kube source under injected API server faults', () => {
  it('a 409 on the status write is re-read and retried', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('qwen', upstream.url, {}, 'default') });
    await kubeAgent();
    await waitFor('Ready=True', async () => condition(await getOffer('qwen'), 'Ready')?.status === 'True');
    const settled = statusWrites('qwen');

    fake.faults.conflictNextStatusWrite();
    upstream.setHealth(503);
    const unhealthy = await waitFor('UpstreamHealthy=False', async () => {
      const c = condition(await getOffer('qwen'), 'UpstreamHealthy');
      return c?.status === 'False' ? c : undefined;
    });
    expect(unhealthy.message).toContain('503');
    // The refused write and the one after the re-read.
    expect(statusWrites('qwen')).toBeGreaterThanOrEqual(settled + 2);
  });

  it('misses nothing across a dropped watch, nor across a drop with the history compacted (410 Expired, relist)', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('alpha', upstream.url, {}, 'default') });
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('beta', upstream.url, {}, 'default') });
    await kubeAgent();
    await waitFor('alpha and beta at the edge', async () => (await edgeKeys()).length === 2);

    fake.faults.dropWatches();
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('gamma', upstream.url, {}, 'default') });
    await waitFor('gamma after the reconnect', async () => (await edgeKeys()).includes('default/gamma'));

    const listsBefore = offerLists();
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
    expect(offerLists()).toBeGreaterThan(listsBefore);
    expect(fake.requests.some((r) => r.query.includes('allowWatchBookmarks=true'))).toBe(true);
  });

  it('5xx answers to its re-watches and status writes: the agent keeps going and recovers', async () => {
    await api.createNamespacedCustomObject({ ...SO, body: offerManifest('alpha', upstream.url, {}, 'default') });
    const agent = await kubeAgent();
    await waitFor('alpha Ready=True', async () => condition(await getOffer('alpha'), 'Ready')?.status === 'True');

    const mark = fake.requests.length;
    // The next requests all fail: the re-watches after the drop and the status writes the health change causes.
    fake.faults.failNextRequests(8);
    fake.faults.dropWatches();
    upstream.setHealth(503);
    fake.store.put('serviceoffers', offerManifest('beta', upstream.url, {}, 'default') as JsonObject);

    await waitFor('beta at the edge after the failures', async () => (await edgeKeys()).includes('default/beta'), 15_000);
    const unhealthy = await waitFor('alpha UpstreamHealthy=False written', async () => {
      const c = condition(await getOffer('alpha'), 'UpstreamHealthy');
      return c?.status === 'False' ? c : undefined;
    }, 15_000);
    expect(unhealthy.message).toContain('503');
    const failed = fake.requests.slice(mark, mark + 8).map((r) => `${r.method} ${r.query.includes('watch=true') ? 'watch' : r.path.split('/').pop() ?? ''}`);
    expect(new Set(failed)).toEqual(new Set(['GET watch', 'PUT status']));
    expect(agent.isReady()).toBe(true);

    // And it still follows changes afterwards.
    upstream.setHealth(200);
    await waitFor('alpha healthy again', async () => condition(await getOffer('alpha'), 'UpstreamHealthy')?.status === 'True', 15_000);
  });
});
