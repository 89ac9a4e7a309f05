import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { startEdge, type TestEdge } from '../../../test/support/edge.js';
import { controlPlane, testNamespace } from '../../../test/kube/fixture.js';
import { isWrite, type AuditEvent, type ControlPlane } from '../../../test/kube/control-plane.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { routeName } from '../../src/agent/routes.js';
import type { AgentConfig, LeaderElectionConfig } from '../../src/agent/config.js';
import type { CatalogSigner } from '../../src/publish/signer.js';
import { startEdgeProxy, type EdgeProxy } from '../agent/edge-proxy.js';
import { memoryLogger, offerManifest, startUpstream, testAgentConfig, testSigner } from '../agent/support.js';

/**
 * What the agent's real-cluster tests share: the run's control plane, the shipped RBAC installed
 * as it is, a kubeconfig with a token of the agent's own ServiceAccount (never the admin), a fresh
 * namespace per test file, a real edge in workerd behind a recording proxy, and an upstream whose
 * health the tests set. Offers point their health check at that upstream with `obol.org/upstream-url`.
 */

export const DEPLOY_DIR = join(import.meta.dirname, '..', '..', 'deploy');
export const AGENT_NAMESPACE = 'obol-system';
export const AGENT_SERVICE_ACCOUNT = 'obol-agent';
export const AGENT_USER = `system:serviceaccount:${AGENT_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`;
export const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' } as const;
export const ROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;
export const GATEWAY = { namespace: 'obol-system', name: 'obol-gateway' } as const;

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}
export interface StoredOffer {
  metadata: { uid: string; generation: number; resourceVersion: string; finalizers?: string[]; deletionTimestamp?: string };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[]; drainEndsAt?: string };
}

export interface AgentCluster {
  readonly plane: ControlPlane;
  /** This file's namespace; its agents watch only it. */
  readonly namespace: string;
  /** Admin client for the tests' own reads and writes. */
  readonly api: CustomObjectsApi;
  readonly admin: KubeConfig;
  /** The agent's ServiceAccount token, as in a pod. */
  readonly agentKubeConfig: KubeConfig;
  readonly agentKubeconfigPath: string;
  readonly signer: CatalogSigner;
  readonly edge: TestEdge;
  readonly proxy: EdgeProxy;
  readonly upstream: Awaited<ReturnType<typeof startUpstream>>;
  /** A manifest in this namespace whose health check is the test upstream. */
  manifest(name: string, spec?: Record<string, unknown>): Record<string, unknown>;
  createOffer(name: string, spec?: Record<string, unknown>): Promise<StoredOffer>;
  getOffer(name: string): Promise<StoredOffer | undefined>;
  getRoute(name: string): Promise<Record<string, unknown> | undefined>;
  /** Keys of the offers in the edge's stored snapshot. */
  edgeKeys(): Promise<string[]>;
  /** An in-process agent on the ServiceAccount's token, watching this namespace only; stopped by `stopAgents`. */
  startAgent(extra?: Partial<AgentConfig>): Promise<RunningAgent>;
  stopAgents(): Promise<void>;
  /** A Lease config in the agent's namespace, named for this file. */
  lease(identity: string, timing?: Partial<LeaderElectionConfig>): LeaderElectionConfig;
  /** The agent's API requests in this namespace (and its Leases), from the API server's audit log. */
  agentRequests(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export const condition = (offer: StoredOffer | undefined, type: string): Condition | undefined => offer?.status?.conditions?.find((c) => c.type === type);

export { isWrite };

/** Namespace and RBAC exactly as shipped, applied server-side (idempotent across test files). */
async function installAgentRbac(plane: ControlPlane): Promise<void> {
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE } };
  await plane.mustKubectl(['apply', '--server-side', '--field-manager=obol-tests', '-f', '-'], { input: JSON.stringify(namespace) });
  await plane.mustKubectl(['apply', '--server-side', '--field-manager=obol-tests', '-f', join(DEPLOY_DIR, 'rbac.yaml')]);
}

export async function setUpAgentCluster(prefix: string): Promise<AgentCluster> {
  const { plane, skip } = controlPlane();
  if (!plane) throw new Error(skip);
  const namespace = testNamespace(prefix);
  await installAgentRbac(plane);
  await plane.mustKubectl(['create', 'namespace', namespace]);
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfigPath);
  const agentKubeconfigPath = await plane.serviceAccountKubeconfig(AGENT_NAMESPACE, AGENT_SERVICE_ACCOUNT);
  const agentKubeConfig = new KubeConfig();
  agentKubeConfig.loadFromFile(agentKubeconfigPath);
  const api = admin.makeApiClient(CustomObjectsApi);
  const signer = testSigner();
  const upstream = await startUpstream();
  const edge = await startEdge({ vars: { CATALOG_SIGNERS: signer.address, METRICS_TOKEN: 'cluster-test-token' } });
  const proxy = await startEdgeProxy(edge.url);
  const agents: RunningAgent[] = [];
  const leaseName = `obol-edge-agent-${namespace}`;

  const manifest = (name: string, spec: Record<string, unknown> = {}) => offerManifest(name, upstream.url, spec, namespace);
  const cluster: AgentCluster = {
    plane,
    namespace,
    api,
    admin,
    agentKubeConfig,
    agentKubeconfigPath,
    signer,
    edge,
    proxy,
    upstream,
    manifest,
    createOffer: async (name, spec) => (await api.createNamespacedCustomObject({ ...SO, namespace, body: manifest(name, spec) })) as StoredOffer,
    getOffer: async (name) => api.getNamespacedCustomObject({ ...SO, namespace, name }).catch(() => undefined) as Promise<StoredOffer | undefined>,
    getRoute: async (name) => api.getNamespacedCustomObject({ ...ROUTES, namespace, name: routeName(name) }).catch(() => undefined) as Promise<Record<string, unknown> | undefined>,
    async edgeKeys() {
      const res = await edge.fetch('/_obol/v1/catalog');
      return res.status === 200 ? ((await res.json()) as { offers: { key: string }[] }).offers.map((o) => o.key) : [];
    },
    async startAgent(extra = {}) {
      const agent = await startAgent(
        testAgentConfig({
          source: { kind: 'kube', kubeConfig: agentKubeConfig, namespaces: [namespace] },
          edgeUrl: proxy.url,
          signer,
          log: memoryLogger().log,
          gateway: GATEWAY,
          ...extra,
        }),
      );
      agents.push(agent);
      return agent;
    },
    async stopAgents() {
      for (const agent of agents.splice(0)) await agent.stop();
    },
    lease: (identity, timing = {}) => ({ namespace: AGENT_NAMESPACE, name: leaseName, identity, leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200, ...timing }),
    async agentRequests() {
      return (await plane.auditEvents()).filter(
        (e) => e.user.username === AGENT_USER && (e.objectRef?.namespace === namespace || (e.objectRef?.resource === 'leases' && e.objectRef.name === leaseName)),
      );
    },
    async close() {
      await cluster.stopAgents();
      await proxy.close();
      await edge.dispose();
      await upstream.close();
      // Offers carry the agent's finalizer: release them so the namespace can go.
      const offers = (await api.listNamespacedCustomObject({ ...SO, namespace }).catch(() => ({ items: [] }))) as { items: { metadata: { name: string } }[] };
      for (const offer of offers.items) {
        await plane.kubectl(['patch', 'serviceoffer', offer.metadata.name, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      }
      await plane.kubectl(['delete', 'namespace', namespace, '--wait=false']);
    },
  };
  return cluster;
}
