import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { join } from 'node:path';
import { ROOT } from '../../test/support/edge-bundle.js';
import { startControlPlane, attachControlPlane, isWrite, type AuditEvent, type RunningControlPlane } from '../../test/kube/control-plane.js';
import { BENCH_NAMESPACES } from './offers.js';

/**
 * The agent bench's `--source kube` against a real control plane (the tests' harness): the shipped
 * RBAC, the agent on its own ServiceAccount's token with leader election and route management as
 * deployed, N offers created through the API server first. The audit log counts the agent's
 * requests.
 */

const AGENT_USER = 'system:serviceaccount:obol-system:obol-agent';
const CREATE_CONCURRENCY = 32;

export interface RealCluster {
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** PATCH one offer's price through the API server. */
  change(): Promise<void>;
  /** The agent's requests so far, from the audit log. */
  agentRequests(): Promise<AuditEvent[]>;
  cleanup(): Promise<void>;
}

/** Requests a slice of the audit log holds: all, writes to offers and routes, and Lease traffic. */
export function countRequests(events: readonly AuditEvent[]): { all: number; offerAndRouteWrites: number; lease: number } {
  const lease = events.filter((e) => e.objectRef?.resource === 'leases').length;
  const offerAndRouteWrites = events.filter((e) => isWrite(e) && (e.objectRef?.resource === 'serviceoffers' || e.objectRef?.resource === 'httproutes')).length;
  return { all: events.length, offerAndRouteWrites, lease };
}

export async function prepareRealCluster(manifests: readonly Record<string, unknown>[]): Promise<RealCluster> {
  const running: RunningControlPlane = await startControlPlane({ onProgress: (line) => console.error(JSON.stringify({ level: 'info', msg: 'control plane', line })) });
  try {
    const plane = attachControlPlane(running.info);
    for (const namespace of ['obol-system', ...BENCH_NAMESPACES]) await plane.mustKubectl(['create', 'namespace', namespace]);
    await plane.mustKubectl(['apply', '--server-side', '-f', join(ROOT, 'cluster-agent', 'deploy', 'rbac.yaml')]);
    const admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfigPath);
    const api = admin.makeApiClient(CustomObjectsApi);
    const so = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' };
    let next = 0;
    const worker = async () => {
      while (next < manifests.length) {
        const body = manifests[next++] as { metadata: { namespace: string } };
        await api.createNamespacedCustomObject({ ...so, namespace: body.metadata.namespace, body });
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
    const agentKubeconfig = await plane.serviceAccountKubeconfig('obol-system', 'obol-agent');
    const first = (manifests[0] as { metadata: { namespace: string; name: string } }).metadata;
    let price = 2;
    return {
      args: ['--source', 'kube', '--gateway', 'obol-system/obol-gateway', '--lease-namespace', 'obol-system'],
      env: { KUBECONFIG: agentKubeconfig },
      async change() {
        price += 1;
        const body = { spec: { payment: { price: { perRequest: `0.00${price}` } } } };
        await api.patchNamespacedCustomObject({ ...so, namespace: first.namespace, name: first.name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      },
      async agentRequests() {
        return (await plane.auditEvents()).filter((e) => e.user.username === AGENT_USER);
      },
      cleanup: () => running.stop(),
    };
  } catch (error) {
    await running.stop();
    throw error;
  }
}
