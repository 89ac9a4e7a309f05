import type { KubeConfig } from '@kubernetes/client-node';
import type { AgentIdentity } from '../../../core/index.js';
import type { CatalogSigner } from '../publish/signer.js';
import type { Logger } from './log.js';
import { DEFAULT_PUSHER_TIMING, type PusherTiming } from './pusher.js';
import type { GatewayRef } from './routes.js';

/** Everything `startAgent` needs, already parsed and checked (the CLI builds it from flags). */
export type SourceConfig =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'kube'; readonly kubeConfig: KubeConfig; readonly namespaces: readonly string[] };

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface AgentConfig {
  readonly source: SourceConfig;
  /** The edge as reachable from the agent. */
  readonly edgeUrl: string;
  /** Overrides the audience the edge reports. */
  readonly audience?: string;
  readonly signer: CatalogSigner;
  readonly identity: AgentIdentity;
  /** kube source: manage HTTPRoutes on this Gateway; undefined = `--no-route-management`. */
  readonly gateway?: GatewayRef;
  /** kube source: undefined = no election (a single replica). */
  readonly leaderElection?: LeaderElectionConfig;
  /** Ops HTTP server; undefined = none. */
  readonly ops?: { readonly host: string; readonly port: number };
  readonly edgeMetricsToken?: string;
  readonly timing: PusherTiming;
  readonly healthIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly resyncMs: number;
  readonly log: Logger;
  /** Called when leadership is lost; the CLI exits so Kubernetes restarts the pod. */
  readonly onLostLeadership: () => void;
}

export const DEFAULT_LEASE = { name: 'obol-edge-agent', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export const DEFAULT_TIMINGS = {
  pusher: DEFAULT_PUSHER_TIMING,
  healthIntervalMs: 10_000,
  probeTimeoutMs: 2_000,
  resyncMs: 5 * 60_000,
};
