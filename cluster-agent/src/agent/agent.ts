import { createEdgeClient } from '../publish/edge-client.js';
import { createDirSource } from '../sources/dir.js';
import { createKubeSource } from '../sources/kube.js';
import type { OfferSource } from '../sources/source.js';
import type { AgentConfig } from './config.js';
import { Controller, type ClusterActions } from './controller.js';
import { createFinalizerManager } from './finalizer.js';
import { HealthProber } from './health.js';
import { LeaderElector } from './leader.js';
import { errorMessage } from './log.js';
import { createAgentMetrics, type AgentMetrics } from './metrics.js';
import { fetchEdgeMetrics, startOpsServer, type OpsServer } from './ops-server.js';
import { Pusher, type Acknowledgement } from './pusher.js';
import { createRouteManager } from './routes.js';
import { createStatusWriter } from './status-writer.js';

/**
 * The long-running agent (SPEC §7), runnable in-process: a source feeds the controller; with
 * leader election only the leader reconciles, pushes and re-exports edge metrics, and a standby
 * just keeps its informers synced.
 */
export interface RunningAgent {
  /** Resolves once `/readyz` would answer 200. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  isLeader(): boolean;
  lastAck(): Acknowledgement | undefined;
  readonly metrics: AgentMetrics;
  /** The ops server's URL, when one was configured. */
  readonly opsUrl: string | undefined;
  stop(): Promise<void>;
}

interface Leading {
  readonly controller: Controller;
  readonly pusher: Pusher;
  readonly prober: HealthProber;
}

function createSource(config: AgentConfig): OfferSource {
  const log = config.log.child({ component: 'source' });
  return config.source.kind === 'dir'
    ? createDirSource({ dir: config.source.dir, log })
    : createKubeSource({ kubeConfig: config.source.kubeConfig, namespaces: config.source.namespaces, log });
}

function clusterActions(config: AgentConfig): ClusterActions | undefined {
  if (config.source.kind !== 'kube') return undefined;
  const kc = config.source.kubeConfig;
  return {
    status: createStatusWriter(kc),
    finalizers: createFinalizerManager(kc),
    ...(config.gateway ? { routes: createRouteManager(kc, config.gateway) } : {}),
  };
}

export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  const metrics = createAgentMetrics();
  const log = config.log;
  const source = createSource(config);
  const client = createEdgeClient({ baseUrl: config.edgeUrl });
  let leading: Leading | undefined;
  let elector: LeaderElector | undefined;
  let stopped = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const isLeader = () => leading !== undefined;
  const isReady = () => (isLeader() ? leading?.pusher.lastAck !== undefined : source.synced && elector !== undefined);

  function startLeading(): void {
    if (leading || stopped) return;
    let controller: Controller | undefined;
    const prober = new HealthProber({ intervalMs: config.healthIntervalMs, timeoutMs: config.probeTimeoutMs, onChange: (key) => controller?.healthChanged(key) });
    const pusher = new Pusher({
      client,
      signer: config.signer,
      identity: config.identity,
      ...(config.audience !== undefined ? { audience: config.audience } : {}),
      timing: config.timing,
      log: log.child({ component: 'pusher' }),
      metrics,
      // The elector answers by the clock: no signing or sending past the renew deadline.
      mayPush: () => elector?.isLeader ?? true,
      onAck: (ack, previous) => {
        controller?.onAck(ack, previous);
        markReady();
      },
    });
    const cluster = clusterActions(config);
    controller = new Controller({
      source,
      pusher,
      prober,
      ...(cluster ? { cluster } : {}),
      publicBaseUrl: () => config.audience ?? pusher.lastAck?.audience,
      resyncMs: config.resyncMs,
      log: log.child({ component: 'controller' }),
      metrics,
    });
    leading = { controller, pusher, prober };
    metrics.leader.set(1);
    prober.start();
    pusher.start();
    controller.start();
  }

  async function stopLeading(): Promise<void> {
    const current = leading;
    leading = undefined;
    metrics.leader.set(0);
    if (!current) return;
    current.prober.stop();
    // Synchronously, before anything is awaited: no push is scheduled from here on.
    const pusherStopped = current.pusher.stop();
    await current.controller.stop();
    await pusherStopped;
  }

  const ops: OpsServer | undefined = config.ops
    ? await startOpsServer({
        ...config.ops,
        metrics,
        log,
        ready: () => ({ ready: isReady(), detail: isLeader() ? 'leader: first push acknowledged' : 'standby: informers synced' }),
        edgeMetrics: async () => (isLeader() && config.edgeMetricsToken ? fetchEdgeMetrics(config.edgeUrl, config.edgeMetricsToken) : undefined),
      })
    : undefined;

  const started = source
    .start((key) => leading?.controller.enqueue(key))
    .then(() => {
      if (stopped) return;
      log.info('offer source synced', { source: source.kind, offers: source.records().length });
      // Only the kube source elects a leader: a dir: agent is a single local process.
      if (!config.leaderElection || config.source.kind !== 'kube') return startLeading();
      elector = new LeaderElector({
        kubeConfig: config.source.kubeConfig,
        ...config.leaderElection,
        log: log.child({ component: 'leader' }),
        onStartedLeading: startLeading,
        onStoppedLeading: () => {
          void stopLeading().finally(() => config.onLostLeadership());
        },
      });
      elector.start();
      markReady();
    })
    .catch((error: unknown) => log.error('offer source failed to start', { error: errorMessage(error) }));

  return {
    ready,
    isReady,
    isLeader,
    lastAck: () => leading?.pusher.lastAck,
    metrics,
    opsUrl: ops?.url,
    async stop() {
      stopped = true;
      await elector?.stop();
      await stopLeading();
      await source.stop();
      await started;
      await ops?.close();
    },
  };
}
