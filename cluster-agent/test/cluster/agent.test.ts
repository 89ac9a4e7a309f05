import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conditionSummary, READY_CONDITIONS } from '../../../test/support/conditions.js';
import { controlPlane } from '../../../test/kube/fixture.js';
import { CATALOG_FINALIZER } from '../../src/agent/finalizer.js';
import { FIELD_MANAGER, LABEL_VALUE_MAX, OFFER_LABEL } from '../../src/agent/routes.js';
import { waitFor } from '../agent/support.js';
import { GATEWAY, condition, isWrite, setUpAgentCluster, type AgentCluster, type StoredOffer } from './support.js';

/**
 * The agent with `--source kube` against a real API server, on its own ServiceAccount's token:
 * status conditions, the finalizer, HTTPRoutes by server-side apply, drains, deletion.
 */

const { plane, skip } = controlPlane();
let c: AgentCluster;

describe.skipIf(!plane)(`agent on a real API server${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    c = await setUpAgentCluster('agent');
  });
  afterEach(async () => {
    await c.stopAgents();
    c.upstream.setHealth(200);
  });
  afterAll(async () => {
    await c?.close();
  });

  const ready = (name: string) =>
    waitFor(`${name} Ready=True`, async () => {
      const offer = await c.getOffer(name);
      return condition(offer, 'Ready')?.status === 'True' ? offer : undefined;
    }, 15_000);

  /** Names of the offers the edge lists as published. */
  async function listed(): Promise<string[]> {
    const res = await c.edge.fetch('/api/services.json');
    return res.status === 200 ? ((await res.json()) as { services: { name: string }[] }).services.map((x) => x.name) : [];
  }

  /** Wait until the agent has written nothing for a second (the work that follows a start is done); the audit log's length then. */
  async function quiet(): Promise<number> {
    let seen = -1;
    for (;;) {
      const writes = (await c.agentRequests()).filter(isWrite).length;
      if (writes === seen) return (await c.agentRequests()).length;
      seen = writes;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  it('writes conditions with observedGeneration and lastTransitionTime, adds its finalizer and applies the owned HTTPRoute', async () => {
    const created = await c.createOffer('qwen');
    // The API server applied the CRD's defaults.
    expect(created.spec).toMatchObject({ type: 'inference', upstream: { service: 'ollama', port: 11434, healthPath: '/health' }, payment: { scheme: 'exact', maxTimeoutSeconds: 300 } });
    await c.startAgent();
    const offer = (await ready('qwen')) as StoredOffer;
    expect(conditionSummary(offer.status?.conditions)).toEqual(READY_CONDITIONS);
    expect(offer.status?.observedGeneration).toBe(1);
    for (const x of offer.status?.conditions ?? []) expect(Date.parse(x.lastTransitionTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(offer.metadata.finalizers).toContain(CATALOG_FINALIZER);

    const route = (await c.getRoute('qwen')) as {
      metadata: { ownerReferences: { uid: string; kind: string; controller: boolean }[]; managedFields: { manager: string; operation: string }[] };
      spec: { parentRefs: unknown[]; rules: { matches: unknown[]; filters: unknown[]; backendRefs: unknown[] }[] };
    };
    expect(route.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ServiceOffer', uid: offer.metadata.uid, controller: true })]);
    expect(route.metadata.managedFields.map((f) => `${f.manager}/${f.operation}`)).toEqual([`${FIELD_MANAGER}/Apply`]);
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: GATEWAY.namespace, name: GATEWAY.name }]);
    expect(route.spec.rules[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/services/qwen' } }]);
    // The Gateway API CRD's defaults, filled in by the server: what made the old GET-compare-PUT rewrite every route.
    expect(route.spec.rules[0]?.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'ollama', port: 11434, weight: 1 }]);
    expect(await c.edgeKeys()).toEqual([`${c.namespace}/qwen`]);

    // Only the status subresource and the finalizer patch touched the offer; the route was applied, never read.
    const requests = await c.agentRequests();
    const offerWrites = requests.filter((e) => isWrite(e) && e.objectRef?.resource === 'serviceoffers').map((e) => `${e.verb} ${e.objectRef?.subresource ?? ''}`);
    expect(new Set(offerWrites)).toEqual(new Set(['update status', 'patch ']));
    expect(requests.filter((e) => e.objectRef?.resource === 'httproutes').map((e) => e.verb)).toEqual(['patch']);
  });

  it('a new generation is observed, and lastTransitionTime moves only for conditions whose status flipped', async () => {
    const offer = (await ready('qwen')) as StoredOffer;
    const before = Object.fromEntries((offer.status?.conditions ?? []).map((x) => [x.type, x.lastTransitionTime]));
    await c.startAgent();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // conditions' times have one-second resolution
    await c.plane.mustKubectl(['patch', 'serviceoffer', 'qwen', '-n', c.namespace, '--type=merge', '-p', '{"spec":{"payment":{"maxTimeoutSeconds":120}}}']);
    const observed = await waitFor('observedGeneration 2, served again', async () => {
      const o = await c.getOffer('qwen');
      return o?.status?.observedGeneration === 2 && condition(o, 'Ready')?.status === 'True' ? o : undefined;
    }, 15_000);
    expect(observed.metadata.generation).toBe(2);
    // A new entry waits for the edge's acknowledgement again (PaymentGateReady and Ready may flip twice); nothing else flipped.
    const stable = ['UpstreamHealthy', 'RoutePublished', 'PathConflict', 'Draining'];
    expect(Object.fromEntries(stable.map((type) => [type, condition(observed, type)?.lastTransitionTime]))).toEqual(Object.fromEntries(stable.map((type) => [type, before[type]])));

    c.upstream.setHealth(503);
    const unhealthy = await waitFor('UpstreamHealthy=False', async () => {
      const o = await c.getOffer('qwen');
      return condition(o, 'UpstreamHealthy')?.status === 'False' ? o : undefined;
    }, 15_000);
    expect(condition(unhealthy, 'UpstreamHealthy')?.message).toContain('503');
    expect(condition(unhealthy, 'UpstreamHealthy')?.lastTransitionTime).not.toBe(before.UpstreamHealthy);
    expect(condition(unhealthy, 'Draining')?.lastTransitionTime).toBe(before.Draining);
  });

  it('an idle agent writes nothing: three heartbeats over unchanged offers make no API write', async () => {
    for (const name of ['idle-a', 'idle-b', 'idle-c']) await c.createOffer(name);
    const heartbeatMs = 500;
    const agent = await c.startAgent({ timing: { debounceMs: 30, heartbeatMs, statusPollMs: 150, backoffBaseMs: 50, backoffMaxMs: 300 } });
    for (const name of ['qwen', 'idle-a', 'idle-b', 'idle-c']) await ready(name);
    const mark = await quiet();
    const sequence = agent.lastAck()?.sequence ?? 0;
    const pushesBefore = c.proxy.pushes().length;
    // Nothing changed, so every push from here on is a heartbeat.
    await waitFor('three heartbeats', () => c.proxy.pushes().length >= pushesBefore + 3, 10_000);
    expect(agent.lastAck()?.sequence).toBeGreaterThan(sequence);
    const writes = (await c.agentRequests()).slice(mark).filter(isWrite);
    expect(writes.map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  });

  it("a push for another offer rewrites neither an acknowledged offer's status nor its route", async () => {
    const agent = await c.startAgent();
    await waitFor('first acknowledgement', () => agent.lastAck() !== undefined, 15_000);
    const mark = await quiet();
    const acknowledged = condition(await c.getOffer('qwen'), 'PaymentGateReady');
    await c.createOffer('newcomer');
    await ready('newcomer');
    const touched = (await c.agentRequests()).slice(mark).filter((e) => isWrite(e) && e.objectRef?.name?.endsWith('qwen'));
    expect(touched.map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
    expect(condition(await c.getOffer('qwen'), 'PaymentGateReady')?.message).toBe(acknowledged?.message);
  });

  it('a restarted agent never withdraws served offers from the edge before it has applied their routes again', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `fleet-${i}`);
    for (const name of names) await c.createOffer(name);
    const first = await c.startAgent();
    await waitFor('the fleet served', async () => (await listed()).filter((n) => n.startsWith('fleet-')).length === names.length, 30_000);
    await first.stop();
    // A new leader starts knowing no route: every catalog the edge serves meanwhile must still list the fleet.
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) seen.push((await listed()).filter((n) => n.startsWith('fleet-')).length);
    })();
    const second = await c.startAgent();
    await waitFor('the new agent acknowledged', () => second.lastAck() !== undefined, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    watching = false;
    await watcher;
    expect(Math.min(...seen)).toBe(names.length);
  });

  it('a draining offer reports its deadline, is requeued at the end, turns Drained and loses its route', async () => {
    const drainAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await c.createOffer('draining', { drainAt, drainGracePeriod: '3s' });
    await c.startAgent();
    const draining = await waitFor('Draining=True', async () => {
      const x = condition(await c.getOffer('draining'), 'Draining');
      return x?.status === 'True' ? x : undefined;
    }, 15_000);
    expect(draining.message).toBe(`Drain ends at ${new Date(Date.parse(drainAt) + 3000).toISOString().replace('.000Z', 'Z')}`);
    await waitFor('route while draining', async () => (await c.getRoute('draining')) !== undefined);
    const drained = await waitFor('Draining=False/Drained', async () => {
      const x = condition(await c.getOffer('draining'), 'Draining');
      return x?.reason === 'Drained' ? x : undefined;
    }, 10_000);
    expect(drained.status).toBe('False');
    await waitFor('route deleted', async () => (await c.getRoute('draining')) === undefined);
    await waitFor('RoutePublished=False/Drained', async () => condition(await c.getOffer('draining'), 'RoutePublished')?.reason === 'Drained');
  });

  it('deletion leaves no route and no catalog entry behind before the finalizer is released', async () => {
    await c.createOffer('doomed');
    await c.startAgent();
    await waitFor('route and catalog entry', async () => (await c.getRoute('doomed')) !== undefined && (await c.edgeKeys()).includes(`${c.namespace}/doomed`), 15_000);
    await c.api.deleteNamespacedCustomObject({ group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', namespace: c.namespace, name: 'doomed' });
    await waitFor('the offer gone', async () => (await c.getOffer('doomed')) === undefined, 15_000);
    expect(await c.edgeKeys()).not.toContain(`${c.namespace}/doomed`);
    expect(await c.getRoute('doomed')).toBeUndefined();
  });

  it('an offer deleted while the agent is stopped: once its finalizer is removed by hand, the garbage collector deletes its route', async () => {
    await c.createOffer('orphan');
    const agent = await c.startAgent();
    await waitFor('route', async () => (await c.getRoute('orphan')) !== undefined, 15_000);
    await agent.stop();
    await c.plane.mustKubectl(['delete', 'serviceoffer', 'orphan', '-n', c.namespace, '--wait=false']);
    // The finalizer holds the offer while nobody is there to release it ...
    const held = await c.getOffer('orphan');
    expect(held?.metadata.deletionTimestamp).toBeDefined();
    expect(await c.getRoute('orphan')).toBeDefined();
    // ... until the seller removes it (e.g. uninstalling the agent); then ownership does the rest.
    await c.plane.mustKubectl(['patch', 'serviceoffer', 'orphan', '-n', c.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await c.plane.mustKubectl(['wait', '--for=delete', `httproute/obol-orphan`, '-n', c.namespace, '--timeout=60s']);
  });
  it('an offer named past 63 characters gets its HTTPRoute (a label value of at most 63) and is served by the edge', async () => {
    const name = 'meta-llama.llama-3.1-70b-instruct.q4-k-m.ollama.gpu-pool-a.example-provider';
    expect(name.length).toBeGreaterThan(70);
    await c.createOffer(name);
    await c.startAgent();
    const offer = await ready(name);
    expect(condition(offer, 'RoutePublished')).toMatchObject({ status: 'True', reason: 'RoutePublished' });
    const route = (await c.getRoute(name)) as { metadata: { labels: Record<string, string> } };
    const label = route.metadata.labels[OFFER_LABEL] ?? '';
    expect(label.length).toBeLessThanOrEqual(LABEL_VALUE_MAX);
    expect(label.startsWith(name.slice(0, 40))).toBe(true);
    expect(await c.edgeKeys()).toContain(`${c.namespace}/${name}`);
    // Listed by the edge as published: its entry says the route is ready (not the permanent 503 of an unrouted offer).
    await waitFor('served by the edge', async () => (await listed()).includes(name), 15_000);
  });

  it('a route the API server refuses is said in RoutePublished=False/RouteApplyFailed with its message; the offer recovers once it is allowed', async () => {
    const policy = `deny-httproutes-${c.namespace}`;
    const manifests = [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: ['gateway.networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['httproutes'] }] },
          validations: [{ expression: 'false', message: 'HTTPRoutes are frozen in this namespace' }],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policy },
        spec: { policyName: policy, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } } } },
      },
    ];
    await c.plane.mustKubectl(['apply', '--server-side', '--field-manager=obol-tests', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }) });
    try {
      // The policy is in force once a server-side dry run of a route is refused.
      const probe = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'probe', namespace: c.namespace }, spec: {} };
      await waitFor('the policy in force', async () => (await c.plane.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(probe) })).stderr.includes('frozen'), 15_000);
      await c.createOffer('refused');
      await c.startAgent();
      const failed = await waitFor('RoutePublished=False/RouteApplyFailed', async () => {
        const x = condition(await c.getOffer('refused'), 'RoutePublished');
        return x?.reason === 'RouteApplyFailed' ? x : undefined;
      }, 15_000);
      expect(failed.status).toBe('False');
      expect(failed.message).toContain(`HTTPRoute ${c.namespace}/obol-refused could not be applied`);
      expect(failed.message).toContain('HTTPRoutes are frozen in this namespace');
      expect(condition(await c.getOffer('refused'), 'Ready')).toMatchObject({ status: 'False', reason: 'RouteApplyFailed' });
      expect(await c.getRoute('refused')).toBeUndefined();
    } finally {
      await c.plane.mustKubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy, '--ignore-not-found']);
    }
    const recovered = await ready('refused');
    expect(condition(recovered, 'RoutePublished')).toMatchObject({ status: 'True', reason: 'RoutePublished' });
    expect(await c.getRoute('refused')).toBeDefined();
  });
});
