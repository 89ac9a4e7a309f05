import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { controlPlane } from '../../../test/kube/fixture.js';
import type { AuditEvent } from '../../../test/kube/control-plane.js';
import { offerManifest, waitFor } from '../agent/support.js';
import { AGENT_USER, SO, condition, setUpAgentCluster, type AgentCluster } from './support.js';

/**
 * The kube source's informers on a real API server: `--namespaces` keeps every list and watch in
 * its namespaces; a watch resumed after etcd compacted its resourceVersion is told 410 and the
 * informer relists; bookmarks move a quiet watch's resourceVersion forward without a relist.
 */

const { plane, skip } = controlPlane();
let c: AgentCluster;

/** The audit fields these tests read beyond the shared type. */
type Audit = AuditEvent & { auditID: string; stageTimestamp: string; user: { extra?: Record<string, string[]> } };

const rvOf = (e: AuditEvent) => Number(new URL(e.requestURI, 'https://x').searchParams.get('resourceVersion'));

/** The agent's served lists (when answered) and watches (when started) of ServiceOffers, in order; a new API server answers 429 until its cache is ready. */
function offerReads(events: readonly AuditEvent[]): Audit[] {
  return (events as Audit[]).filter(
    (e) =>
      e.user.username === AGENT_USER &&
      e.objectRef?.resource === 'serviceoffers' &&
      e.objectRef.subresource === undefined &&
      e.responseStatus?.code === 200 &&
      ((e.verb === 'list' && e.stage === 'ResponseComplete') || (e.verb === 'watch' && e.stage === 'ResponseStarted')),
  );
}

/** A loopback TCP forwarder to an API server that the test can cut (connections dropped, new ones refused) and restore; TLS passes through. */
async function startCuttableProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(Number(port), hostname);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      dropAll();
    },
    restore() {
      cut = false;
    },
    close() {
      this.cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const agentKubeconfig = async () => JSON.parse(await readFile(c.agentKubeconfigPath, 'utf8')) as { clusters: { cluster: { server: string } }[]; users: { user: { token: string } }[] };

/** The agent's own ServiceAccount kubeconfig, pointed at another server. */
async function agentKubeConfigAt(server: string): Promise<KubeConfig> {
  const config = await agentKubeconfig();
  for (const cluster of config.clusters) cluster.cluster.server = server;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(JSON.stringify(config));
  return kubeConfig;
}

/** The audit's `authentication.kubernetes.io/credential-id` of this file's agent token (its `jti`). */
async function credentialId(): Promise<string> {
  const token = (await agentKubeconfig()).users[0]?.user.token ?? '';
  return `JTI=${(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }).jti}`;
}

/** The first event a watch of `path` from `resourceVersion` gets, as the admin of `kubeconfigPath`'s server. */
async function firstWatchEvent(kubeconfigPath: string, path: string, resourceVersion: number): Promise<{ type: string; object: { code?: number; reason?: string } }> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let abort: AbortController | undefined;
  const event = new Promise<{ type: string; object: { code?: number; reason?: string } }>((resolve, reject) => {
    void new Watch(kubeConfig)
      .watch(path, { resourceVersion }, (type, object: { code?: number; reason?: string }) => resolve({ type, object }), (error: unknown) => reject(new Error(`watch ended without an event: ${String(error)}`)))
      .then((controller) => (abort = controller));
  });
  return event.finally(() => abort?.abort());
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const core = () => c.admin.makeApiClient(CoreV1Api);
const ready = (name: string) => waitFor(`${name} Ready=True`, async () => condition(await c.getOffer(name), 'Ready')?.status === 'True', 20_000);
const edgeServes = (...names: string[]) =>
  waitFor(`the edge serving exactly ${names.join(', ')}`, async () => {
    const keys = (await c.edgeKeys()).sort();
    return JSON.stringify(keys) === JSON.stringify(names.map((name) => `${c.namespace}/${name}`).sort());
  }, 20_000);
/** Delete an offer for good: its finalizer released by hand, as with no agent to do it. */
async function deleteOffer(name: string): Promise<void> {
  await c.api.deleteNamespacedCustomObject({ ...SO, namespace: c.namespace, name }).catch(() => undefined);
  await c.api.patchNamespacedCustomObject({ ...SO, namespace: c.namespace, name, body: { metadata: { finalizers: null } } }, merge).catch(() => undefined);
  await waitFor(`${name} gone`, async () => (await c.getOffer(name)) === undefined, 20_000);
}
/** The newest resourceVersion among this namespace's ServiceOffers. */
const newestOfferRv = async () => Math.max(0, ...((await c.api.listNamespacedCustomObject({ ...SO, namespace: c.namespace })) as { items: { metadata: { resourceVersion: string } }[] }).items.map((o) => Number(o.metadata.resourceVersion)));
/** A write elsewhere in the cluster: etcd's revision is global, so it moves past every ServiceOffer's resourceVersion. */
const writeConfigMap = (i: number) => core().createNamespacedConfigMap({ namespace: c.namespace, body: { metadata: { generateName: 'filler-' }, data: { i: String(i) } } });

describe.skipIf(!plane)(`the kube source's informers on a real API server${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    c = await setUpAgentCluster('watch');
  });
  afterEach(async () => {
    await c.stopAgents();
    // Each test starts from no offers.
    const offers = (await c.api.listNamespacedCustomObject({ ...SO, namespace: c.namespace })) as { items: { metadata: { name: string } }[] };
    for (const offer of offers.items) await deleteOffer(offer.metadata.name);
  });
  afterAll(async () => {
    await c?.close();
  });

  it('--namespaces: lists and watches only its namespace; an offer elsewhere gets no status and no catalog entry', async () => {
    const other = `${c.namespace}-other`;
    await core().createNamespace({ body: { metadata: { name: other } } });
    try {
      await c.api.createNamespacedCustomObject({ ...SO, namespace: other, body: offerManifest('elsewhere', c.upstream.url, {}, other) });
      await c.createOffer('here');
      await c.startAgent();
      await ready('here');
      await edgeServes('here');
      const elsewhere = (await c.api.getNamespacedCustomObject({ ...SO, namespace: other, name: 'elsewhere' })) as { status?: unknown; metadata: { finalizers?: string[] } };
      expect(elsewhere.status).toBeUndefined();
      expect(elsewhere.metadata.finalizers).toBeUndefined();

      // The RBAC is cluster-wide: the restriction is the agent's own. Other files run agents on the
      // same ServiceAccount, so this file's requests are those made with its token.
      const id = await credentialId();
      const reads = offerReads(await c.plane.auditEvents()).filter((e) => e.user.extra?.['authentication.kubernetes.io/credential-id']?.includes(id));
      expect(new Set(reads.map((e) => e.verb))).toEqual(new Set(['list', 'watch']));
      const namespaced = new RegExp(`^/apis/obol\\.org/v1alpha1/namespaces/${c.namespace}/serviceoffers(\\?|$)`);
      expect(reads.filter((e) => !namespaced.test(e.requestURI) || e.objectRef?.namespace !== c.namespace).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
    } finally {
      await core().deleteNamespace({ name: other });
    }
  });

  it('a watch resumed after etcd compacted its resourceVersion is answered 410 Expired and relists: what it missed reaches the edge', async () => {
    await c.createOffer('alpha');
    await c.createOffer('beta');
    // The watch cache hides compactions (it serves from its own history): this server watches etcd directly.
    const server = await c.plane.startApiServer({ watchCache: false });
    const proxy = await startCuttableProxy(server.url);
    try {
      await c.startAgent({ source: { kind: 'kube', kubeConfig: await agentKubeConfigAt(proxy.url), namespaces: [c.namespace] } });
      await Promise.all([ready('alpha'), ready('beta')]);
      await edgeServes('alpha', 'beta');

      proxy.cut();
      await deleteOffer('alpha');
      await c.createOffer('delta');
      for (let i = 0; i < 3; i++) await writeConfigMap(i);
      const compacted = await c.plane.compactEtcd();
      proxy.restore();

      // The deletion happened while the agent was away and its DELETED event is compacted away: only a relist shows it.
      await edgeServes('beta', 'delta');
      const reads = offerReads(await server.auditEvents());
      const lists = reads.filter((e) => e.verb === 'list');
      expect(lists).toHaveLength(2);
      // Right before the relist: the first watch that reached the server after the cut, from a revision etcd no longer has ...
      const resumed = reads[reads.indexOf(lists[1] as Audit) - 1] as Audit;
      expect(resumed.verb).toBe('watch');
      expect(rvOf(resumed)).toBeLessThan(compacted);
      const earlier = reads.slice(0, reads.indexOf(resumed)).filter((e) => e.verb === 'watch');
      expect(rvOf(resumed)).toBeGreaterThanOrEqual(Math.max(...earlier.map(rvOf))); // the resourceVersion it had reached
      // ... which the server answered at once: HTTP 200 (all a Metadata-level audit shows of a watch), closed before the relist ...
      const ended = (await server.auditEvents()).find((e) => (e as Audit).auditID === resumed.auditID && e.stage === 'ResponseComplete') as Audit | undefined;
      expect(ended?.responseStatus?.code).toBe(200);
      expect(Date.parse(ended?.stageTimestamp ?? '')).toBeLessThanOrEqual(Date.parse((lists[1] as Audit).stageTimestamp));
      // ... and the watch after the relist starts from the new listing, past the compaction.
      expect(rvOf(reads[reads.indexOf(lists[1] as Audit) + 1] as Audit)).toBeGreaterThanOrEqual(compacted);
      // The 410 itself travels inside the stream as an ERROR event: the same request, made again, gets it.
      const path = new URL(resumed.requestURI, 'https://x').pathname;
      expect(await firstWatchEvent(server.kubeconfigPath, path, rvOf(resumed))).toEqual({ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) });
    } finally {
      await c.stopAgents();
      await proxy.close();
      await server.stop();
    }
  }, 120_000);

  it('bookmarks: a quiet watch resumes, without relisting, from a resourceVersion newer than any ServiceOffer', async () => {
    await c.createOffer('gamma');
    // Watches end after 4–8 s; the watch cache sends a BOOKMARK 2 s before a watch's deadline.
    const server = await c.plane.startApiServer({ watchCache: true, minRequestTimeoutSeconds: 4 });
    try {
      await c.startAgent({ source: { kind: 'kube', kubeConfig: await agentKubeConfigAt(server.url), namespaces: [c.namespace] } });
      await ready('gamma');
      await edgeServes('gamma');

      // A bookmark carries the revision the ServiceOffer cache has seen, which moves past ServiceOffer events
      // only on etcd progress notifications: etcd sends one every 10 min, and the API server asks its
      // ServiceOffer etcd client for one whenever a consistent LIST of ServiceOffers waits for the cache.
      // So another client writes ConfigMaps and reads (never writes) ServiceOffers, as kubectl users do.
      const reader = new KubeConfig();
      reader.loadFromFile(server.kubeconfigPath);
      const otherClient = reader.makeApiClient(CustomObjectsApi);
      let i = 0;
      // A watch resumed (its previous read was a watch, not a relist's LIST) from beyond the newest ServiceOffer:
      // only a bookmark can have told the informer that resourceVersion.
      const resumed = await waitFor('a ServiceOffer watch resumed from a resourceVersion no ServiceOffer has', async () => {
        await writeConfigMap(i++);
        await otherClient.listClusterCustomObject({ ...SO });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const reads = offerReads(await server.auditEvents());
        // Read after the audit: resourceVersions only grow, so a watch from beyond this one no event can have told.
        const newest = await newestOfferRv();
        return reads.find((e, at) => e.verb === 'watch' && rvOf(e) > newest && reads[at - 1]?.verb === 'watch');
      }, 40_000);
      expect(resumed.requestURI).toContain('allowWatchBookmarks=true');

      const reads = offerReads(await server.auditEvents());
      const watches = reads.filter((e) => e.verb === 'watch');
      expect(watches.length).toBeGreaterThanOrEqual(2);
      for (const e of watches) expect(new URL(e.requestURI, 'https://x').searchParams.get('allowWatchBookmarks')).toBe('true');
    } finally {
      await c.stopAgents();
      await server.stop();
    }
  }, 120_000);
});
