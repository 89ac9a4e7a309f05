import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { controlPlane } from '../../../test/kube/fixture.js';
import type { AuditEvent } from '../../../test/kube/control-plane.js';
import type { RunningAgent } from '../../src/agent/agent.js';
import { memoryLogger, waitFor } from '../agent/support.js';
import { AGENT_NAMESPACE, AGENT_USER, DEPLOY_DIR, SO, condition, setUpAgentCluster, type AgentCluster } from './support.js';

/**
 * The shipped RBAC is exactly what the agent needs, as the real authorizer sees it: the agent on
 * its ServiceAccount works without a single 403, and each verb of each rule, removed in turn from a
 * copy bound to another ServiceAccount, breaks something the agent then reports with the API
 * server's own message while it keeps running. The API server runs OwnerReferencesPermissionEnforcement
 * (as OpenShift does), so a grant an admission plugin checks is proven the same way. Plus: an API
 * server unreachable at start.
 */

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { name: string };
  subjects?: { name: string }[];
}

const SHIPPED = parseAllDocuments(readFileSync(join(DEPLOY_DIR, 'rbac.yaml'), 'utf8')).map((doc) => doc.toJS() as RbacObject);
/** One verb of one rule of the ClusterRole or the Role: what each case takes away. */
interface Grant { readonly kind: string; readonly rule: number; readonly verb: string; readonly label: string }
const GRANTS: Grant[] = ['ClusterRole', 'Role'].flatMap((kind) =>
  (SHIPPED.find((o) => o.kind === kind)?.rules ?? []).flatMap((rule, index) => rule.verbs.map((verb) => ({ kind, rule: index, verb, label: `${rule.resources.join(',')} ${verb}` }))),
);

interface Breakage {
  /** The agent's log message, and what its `error` field quotes of the API server's answer. */
  readonly msg: string;
  readonly says: string;
  /** The offer the failing log line names, and that never gets there; none for the source and the Lease. */
  readonly names?: 'active' | 'drained';
  /**
   * The refused request in the audit log as `resource[/subresource] verb`, when it is not the grant
   * itself: the authorizer allowed it, a later check refused it (server-side apply's create, admission).
   */
  readonly refused?: string;
  /** Refused by an admission plugin after the authorizer allowed the request: the message names no user. */
  readonly by?: 'admission';
  /** The active offer still gets Ready=True: the verb is not on its path. */
  readonly activeReady?: boolean;
  /** `expired-lease`: a Lease to take over (update, not create); `conflicts`: status writes that conflict. */
  readonly setup?: 'expired-lease' | 'conflicts';
}

const SOURCE = 'cannot list and watch ServiceOffers; retrying';
const RECONCILE = 'reconcile failed; requeued';
const LEASE = 'lease update failed';
const BREAKS: Record<string, Breakage> = {
  'serviceoffers list': { msg: SOURCE, says: 'cannot list resource "serviceoffers" in API group "obol.org" in the namespace' },
  // client-node's Watch drops the Status body of a refused watch: only the HTTP status is left to quote.
  'serviceoffers watch': { msg: SOURCE, says: 'watch refused: HTTP 403 Forbidden' },
  'serviceoffers get': { msg: RECONCILE, says: 'cannot get resource "serviceoffers" in API group "obol.org"', names: 'active', activeReady: true, setup: 'conflicts' },
  'serviceoffers patch': { msg: RECONCILE, says: 'cannot patch resource "serviceoffers" in API group "obol.org"', names: 'active' },
  'serviceoffers/status update': { msg: RECONCILE, says: 'cannot update resource "serviceoffers/status" in API group "obol.org"', names: 'active' },
  // The route's ownerReference has blockOwnerDeletion: OwnerReferencesPermissionEnforcement refuses its apply.
  'serviceoffers/finalizers update': { msg: RECONCILE, says: "is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on", names: 'active', refused: 'httproutes patch', by: 'admission' },
  'httproutes create': { msg: RECONCILE, says: 'cannot create resource "httproutes" in API group "gateway.networking.k8s.io"', names: 'active', refused: 'httproutes patch' },
  'httproutes patch': { msg: RECONCILE, says: 'cannot patch resource "httproutes" in API group "gateway.networking.k8s.io"', names: 'active' },
  'httproutes delete': { msg: RECONCILE, says: 'cannot delete resource "httproutes" in API group "gateway.networking.k8s.io"', names: 'drained', activeReady: true },
  'leases get': { msg: LEASE, says: 'cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "obol-system"' },
  'leases create': { msg: LEASE, says: 'cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "obol-system"' },
  'leases update': { msg: LEASE, says: 'cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "obol-system"', setup: 'expired-lease' },
};

/** The shipped objects renamed for `tag`, bound to ServiceAccount `obol-agent-<tag>`, without `grant`. */
function variant(tag: string, grant: Grant): RbacObject[] {
  const account = `obol-agent-${tag}`;
  return SHIPPED.map((shipped) => {
    const o = structuredClone(shipped);
    o.metadata.name = o.kind === 'ServiceAccount' ? account : `${o.metadata.name}-${tag}`;
    if (o.roleRef) o.roleRef.name = `${o.roleRef.name}-${tag}`;
    if (o.subjects) o.subjects = o.subjects.map((s) => ({ ...s, name: account }));
    if (o.kind === grant.kind && o.rules) {
      o.rules = o.rules.map((r, i) => (i === grant.rule ? { ...r, verbs: r.verbs.filter((v) => v !== grant.verb) } : r)).filter((r) => r.verbs.length > 0);
    }
    return o;
  });
}

interface LogEntry { level: string; msg: string; error?: string; offer?: string; namespace?: string }
const entries = (lines: string[]): LogEntry[] => lines.map((line) => JSON.parse(line) as LogEntry);
const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
/** The authorizer's verdict, which the audit log records even when admission then refuses. */
const decisionOf = (e: AuditEvent) => (e as AuditEvent & { annotations?: Record<string, string> }).annotations?.['authorization.k8s.io/decision'];
const grantOf = (e: AuditEvent) => `${e.objectRef?.resource ?? ''}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.verb}`;

const { plane, skip } = controlPlane();
let c: AgentCluster;
const variants: RbacObject[][] = [];
const DRAINED = { drainAt: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), drainGracePeriod: '1m' };

describe.skipIf(!plane)(`the agent's RBAC on a real authorizer${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    c = await setUpAgentCluster('rbac');
  });
  afterEach(async () => {
    await c.stopAgents();
    // Offers keep the agent's finalizer: release them, so the next case starts from an empty namespace.
    await c.plane.kubectl(['delete', 'serviceoffers', '--all', '-n', c.namespace, '--wait=false']);
    const { items } = (await c.api.listNamespacedCustomObject({ ...SO, namespace: c.namespace })) as { items: { metadata: { name: string } }[] };
    for (const o of items) await c.plane.kubectl(['patch', 'serviceoffer', o.metadata.name, '-n', c.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await waitFor('no offers left', async () => ((await c.api.listNamespacedCustomObject({ ...SO, namespace: c.namespace })) as { items: unknown[] }).items.length === 0, 20_000);
  });
  afterAll(async () => {
    for (const objects of variants) await plane?.kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    await c?.close();
  });

  it('on its own ServiceAccount the agent works without one 403, and uses nothing it is not granted', async () => {
    await c.createOffer('full-a');
    await c.createOffer('full-d', DRAINED);
    const agent = await c.startAgent({ leaderElection: c.lease('full') });
    await waitFor('full-a Ready=True', async () => condition(await c.getOffer('full-a'), 'Ready')?.status === 'True', 30_000);
    await waitFor('full-d Drained', async () => condition(await c.getOffer('full-d'), 'Draining')?.reason === 'Drained', 15_000);
    expect(await c.getRoute('full-a')).toBeDefined();
    expect(agent.isLeader()).toBe(true);
    const lease = JSON.parse((await c.plane.mustKubectl(['get', 'lease', c.lease('full').name, '-n', AGENT_NAMESPACE, '-o', 'json'])).stdout) as { spec: { holderIdentity: string } };
    expect(lease.spec.holderIdentity).toBe('full');

    const requests = await c.agentRequests();
    expect(requests.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
    const granted = new Set(SHIPPED.flatMap((o) => o.rules ?? []).flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${res} ${v}`))));
    expect([...new Set(requests.map(grantOf))].filter((g) => !granted.has(g))).toEqual([]);
  }, 60_000);

  it('the cases below cover every verb the shipped RBAC grants, and only those', () => {
    expect(GRANTS.map((g) => g.label).sort()).toEqual(Object.keys(BREAKS).sort());
  });

  GRANTS.forEach((grant, index) => {
    const breakage = BREAKS[grant.label];
    it(`without "${grant.label}" (${grant.kind}): "${breakage?.says ?? 'nothing expected'}"`, async () => {
      if (!breakage) throw new Error(`rbac.yaml grants "${grant.label}" but no case says what breaks without it: is it needed?`);
      const tag = `${c.namespace}-${index}`;
      const objects = variant(tag, grant);
      variants.push(objects);
      await c.plane.mustKubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(await c.plane.serviceAccountKubeconfig(AGENT_NAMESPACE, `obol-agent-${tag}`));
      const lease = c.lease(`replica-${index}`, { name: `obol-edge-agent-${tag}` });
      if (breakage.setup === 'expired-lease') {
        const spec = { holderIdentity: 'departed', leaseDurationSeconds: 1, acquireTime: microTime(Date.now() - 120_000), renewTime: microTime(Date.now() - 60_000) };
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: lease.name, namespace: AGENT_NAMESPACE }, spec };
        await c.plane.mustKubectl(['apply', '-f', '-'], { input: JSON.stringify(body) });
      }
      const active = `a${index}`;
      const drained = `d${index}`;
      await c.createOffer(active);
      await c.createOffer(drained, DRAINED);
      const logs = memoryLogger();
      let lost = 0;
      const agent = await c.startAgent({ source: { kind: 'kube', kubeConfig, namespaces: [c.namespace] }, log: logs.log, leaderElection: lease, onLostLeadership: () => lost++ });
      const stopChurn = breakage.setup === 'conflicts' ? churn(active) : () => Promise.resolve();

      const times = breakage.setup === 'conflicts' ? 1 : 2; // logged again on retry: the agent keeps trying
      const named = breakage.names && `${c.namespace}/${breakage.names === 'active' ? active : drained}`;
      const failures = await waitFor(`"${breakage.msg}" quoting '${breakage.says}' ${times}×${named ? ` for ${named}` : ''}`, () => {
        const found = entries(logs.lines).filter((e) => e.msg === breakage.msg && e.error?.includes(breakage.says) && (!named || e.offer === named));
        return found.length >= times ? found : undefined;
      }, 30_000).finally(stopChurn);
      const [first] = failures;
      expect(['warn', 'error']).toContain(first?.level);
      if (breakage.msg === SOURCE) expect(first?.namespace).toBe(c.namespace);
      const user = `system:serviceaccount:${AGENT_NAMESPACE}:obol-agent-${tag}`;
      if (grant.label !== 'serviceoffers watch' && breakage.by !== 'admission') expect(first?.error).toContain(`User "${user}"`);

      // Refused for this request: by the authorizer, or (another request than the grant) by a later check it passed.
      const audit = await c.plane.auditEvents();
      const refused = audit.filter((e) => e.user.username === user && e.responseStatus?.code === 403 && grantOf(e) === (breakage.refused ?? grant.label));
      expect(refused.map(decisionOf)).toContain(breakage.refused ? 'allow' : 'forbid');

      if (breakage.activeReady) await waitFor(`${active} Ready=True all the same`, async () => condition(await c.getOffer(active), 'Ready')?.status === 'True', 20_000);
      else expect(condition(await c.getOffer(active), 'Ready')?.status).not.toBe('True');
      // Drained is the clock's word (SPEC §3); the route left behind is what the status must own up to.
      if (breakage.names === 'drained') expect(condition(await c.getOffer(drained), 'RoutePublished')?.reason).toBe('RouteDeleteFailed');
      // Still running: alive, no leadership lost, nothing crashed the source.
      expect((await fetch(`${agent.opsUrl}/healthz`)).status).toBe(200);
      expect(lost).toBe(0);
      expect(entries(logs.lines).filter((e) => e.msg === 'offer source failed to start')).toEqual([]);
    }, 60_000);
  });

  /** Change the offer's spec as fast as the API server takes it: the agent's status writes then conflict. */
  function churn(name: string): () => Promise<void> {
    let running = true;
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const loop = (async () => {
      for (let i = 0; running; i++) {
        const body = { spec: { payment: { maxTimeoutSeconds: 100 + (i % 50) } } };
        await c.api.patchNamespacedCustomObject({ ...SO, namespace: c.namespace, name, body }, merge).catch(() => undefined);
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  it('an API server unreachable at start: the agent says so, keeps retrying, stays unready, and syncs once it answers', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const real = c.agentKubeConfig;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: real.getClusters().map((cluster) => ({ ...cluster, server: `https://127.0.0.1:${port}` })),
      users: real.getUsers(),
      contexts: real.getContexts(),
      currentContext: real.getCurrentContext(),
    });
    const logs = memoryLogger();
    const agent: RunningAgent = await c.startAgent({ source: { kind: 'kube', kubeConfig, namespaces: [c.namespace] }, log: logs.log });
    const refused = await waitFor('two failed attempts, saying why', () => {
      const found = entries(logs.lines).filter((e) => e.msg === SOURCE);
      return found.length >= 2 ? found : undefined;
    }, 20_000);
    expect(refused[0]?.level).toBe('warn');
    expect(refused[0]?.namespace).toBe(c.namespace);
    expect(refused[0]?.error).toMatch(new RegExp(`^cannot reach the API server: .*connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    const readyz = await fetch(`${agent.opsUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(agent.isReady()).toBe(false);

    // Now something answers on that port: the real API server, through a TCP forwarder (TLS end to end).
    const target = new URL(c.plane.url);
    const sockets = new Set<Socket>();
    const forwarder: Server = createServer((socket) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
    try {
      await waitFor('the agent synced and ready', async () => (await fetch(`${agent.opsUrl}/readyz`)).status === 200, 20_000);
      expect(entries(logs.lines).some((e) => e.msg === 'offer source synced')).toBe(true);
    } finally {
      await c.stopAgents();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    }
  }, 60_000);
});
