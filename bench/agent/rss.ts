import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { z } from 'zod';
import { catalogSigner } from '../../cluster-agent/src/publish/signer.js';
import { startUpstream } from '../../cluster-agent/test/agent/support.js';
import { startFakeApiServer, type FakeApiServer } from '../../cluster-agent/test/fake-apiserver/server.js';
import { spawnManaged, waitForHttp } from '../../stack/processes.js';
import { freePort, startWranglerEdge } from './edge-process.js';
import { liveHeapBytes } from './heap.js';
import { BENCH_NAMESPACES, benchManifests, writeManifestDir } from './offers.js';
import { patchPrice } from './propagation.js';
import { countRequests, prepareRealCluster } from './real-cluster.js';
import type { AuditEvent } from '../../test/kube/control-plane.js';

/**
 * The agent as deployed (`node obol-edge.mjs agent`: the image's bundle, built by the same
 * `bundleAgent`, with the Deployment's NODE_OPTIONS; a child process in its own group) over N
 * offers from a `dir:` source or the fake API server (`--source kube`, no routes, no election),
 * pushing to the edge under `wrangler dev`. Measures start → first acknowledged push (`/readyz`
 * 200), resident memory afterwards (`VmRSS`, peak `VmHWM`, from /proc/<pid>/status), and one price
 * change at that size (file edit or PATCH → the edge's sequence moves). A separate diagnostic run
 * (`liveHeap`) adds `--heapsnapshot-signal` and reports the live heap of a heap snapshot instead.
 */

/** `kube`: the fake API server (no routes, no election); `kube-real`: a real control plane, as deployed. */
export type BenchSource = 'dir' | 'kube' | 'kube-real';

export interface AgentProcessResult {
  readonly offers: number;
  readonly source: BenchSource;
  /** NODE_OPTIONS given to the agent ('' for none). */
  readonly nodeOptions: string;
  /** How the agent was run, e.g. `node obol-edge.mjs (bundle)`. */
  readonly entry: string;
  readonly startToReadyMs: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  /** Absent when the edge did not show the change within the deadline. */
  readonly changeToEdgeMs?: number;
  /** Diagnostic runs only: the heap snapshot's total (what survives a full GC). */
  readonly liveHeapBytes?: number;
  /** `kube-real` only: the agent's API requests (audit log) over idle heartbeats and for one change. */
  readonly api?: {
    readonly heartbeatMs: number;
    readonly idleHeartbeats: number;
    readonly idle: ReturnType<typeof countRequests>;
    readonly change: ReturnType<typeof countRequests>;
    /** From the first acknowledged push until the agent stopped writing (statuses, finalizers, routes). */
    readonly settleAfterReadyMs: number;
  };
}

export interface AgentProcessOptions {
  /** The agent's entry file (the bundle) and how to describe it. */
  readonly entry: { readonly file: string; readonly label: string };
  readonly nodeOptions: string;
  /** Take a heap snapshot after the first push instead of timing a change (adds `--heapsnapshot-signal`). */
  readonly liveHeap?: boolean;
}

interface Prepared {
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** Make one price change; resolves once the change was written. */
  readonly change: () => Promise<void>;
  readonly cleanup: () => Promise<void>;
  /** Real cluster only: the agent's requests from the audit log. */
  readonly agentRequests?: () => Promise<AuditEvent[]>;
}

const REAL_HEARTBEAT_MS = 5000;
const IDLE_HEARTBEATS = 3;

/** Wait until the agent's offer and route writes stop for a few seconds; how long that took. */
async function settle(agentRequests: () => Promise<AuditEvent[]>, timeoutMs = 1_200_000): Promise<number> {
  const started = performance.now();
  let last = -1;
  while (performance.now() - started < timeoutMs) {
    const writes = countRequests(await agentRequests()).offerAndRouteWrites;
    if (writes === last) return performance.now() - started - 3000;
    last = writes;
    await sleep(3000);
  }
  throw new Error(`the agent kept writing for ${timeoutMs / 1000} s`);
}

type BenchManifest = { metadata: { namespace: string; name: string }; spec: { payment: { price: { perRequest: string } } } };

const Status = z.object({ sequence: z.number().nullable().optional() });
const KUBE_TOKEN = 'agent-bench-rss-token';

function procMemory(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function edgeSequence(edgeUrl: string): Promise<number> {
  const res = await fetch(`${edgeUrl}/_obol/v1/catalog/status`);
  return Status.parse(await res.json()).sequence ?? 0;
}

async function timeChange(edgeUrl: string, change: () => Promise<void>, timeoutMs = 60_000): Promise<number | undefined> {
  const before = await edgeSequence(edgeUrl);
  const started = performance.now();
  await change();
  while (performance.now() - started < timeoutMs) {
    if ((await edgeSequence(edgeUrl)) > before) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

function prepareDir(manifests: readonly Record<string, unknown>[]): Prepared {
  const dir = mkdtempSync(join(tmpdir(), 'obol-agent-bench-offers-'));
  writeManifestDir(dir, manifests);
  const first = manifests[0] as BenchManifest;
  const changed = { ...first, spec: { ...first.spec, payment: { ...first.spec.payment, price: { perRequest: '0.002' } } } };
  return {
    args: ['--source', `dir:${dir}`],
    env: {},
    change: async () => writeFileSync(join(dir, `${first.metadata.namespace}-${first.metadata.name}.json`), JSON.stringify(changed)),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function prepareKube(manifests: readonly Record<string, unknown>[]): Promise<Prepared> {
  const fake: FakeApiServer = await startFakeApiServer({ token: KUBE_TOKEN, namespaces: ['default', ...BENCH_NAMESPACES] });
  const create = async (body: Record<string, unknown>) => {
    const { namespace } = body.metadata as { namespace: string };
    const res = await fetch(`${fake.url}/apis/obol.org/v1alpha1/namespaces/${namespace}/serviceoffers`, {
      method: 'POST', headers: { authorization: `Bearer ${KUBE_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`creating a ServiceOffer answered ${res.status}`);
    await res.body?.cancel();
  };
  for (let i = 0; i < manifests.length; i += 16) await Promise.all(manifests.slice(i, i + 16).map(create));
  const first = (manifests[0] as BenchManifest).metadata;
  return {
    args: ['--source', 'kube', '--no-route-management', '--no-leader-election'],
    env: { KUBECONFIG: fake.kubeconfigPath },
    change: () => patchPrice(fake.url, first, '0.002', KUBE_TOKEN),
    cleanup: () => fake.stop(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function prepareReal(manifests: readonly Record<string, unknown>[]): Promise<Prepared> {
  const real = await prepareRealCluster(manifests);
  return { args: [...real.args, '--heartbeat', `${REAL_HEARTBEAT_MS / 1000}s`], env: real.env, change: () => real.change(), cleanup: () => real.cleanup(), agentRequests: () => real.agentRequests() };
}

/** SIGUSR2 → V8 writes a heap snapshot into the agent's cwd, blocking its event loop until done. */
async function snapshotLiveHeap(pid: number, dir: string, opsPort: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await sleep(200);
  // The write blocks the agent's event loop: once /healthz answers again the file is complete.
  await waitForHttp(`http://127.0.0.1:${opsPort}/healthz`, { timeoutMs: 120_000, intervalMs: 200 });
  const file = readdirSync(dir).find((name) => name.endsWith('.heapsnapshot'));
  if (!file) throw new Error('the agent wrote no heap snapshot');
  return liveHeapBytes(join(dir, file));
}

export async function measureAgentProcess(offers: number, source: BenchSource, options: AgentProcessOptions): Promise<AgentProcessResult> {
  const key = generatePrivateKey();
  const upstream = await startUpstream();
  const edge = await startWranglerEdge({ CATALOG_SIGNERS: catalogSigner(key).address, PUBLIC_BASE_URL: 'https://agent-bench.obol.example' });
  const manifests = benchManifests(offers, upstream.url);
  const prepared = source === 'dir' ? prepareDir(manifests) : source === 'kube' ? await prepareKube(manifests) : await prepareReal(manifests);
  const workDir = mkdtempSync(join(tmpdir(), 'obol-agent-bench-cwd-'));
  const nodeOptions = options.liveHeap ? `${options.nodeOptions} --heapsnapshot-signal=SIGUSR2`.trim() : options.nodeOptions;
  const output: string[] = [];
  try {
    const opsPort = await freePort();
    const started = performance.now();
    const agent = spawnManaged({
      name: 'agent',
      command: process.execPath,
      args: [options.entry.file, 'agent', ...prepared.args, '--edge', edge.url, '--ops-addr', `127.0.0.1:${opsPort}`, '--log-level', 'warn'],
      cwd: workDir,
      // NODE_OPTIONS always set: exactly the deployed flags, never whatever the bench runs under.
      env: { ...process.env, ...prepared.env, OBOL_CATALOG_KEY: key, NODE_OPTIONS: nodeOptions },
      onLine: (line) => void (output.length < 200 && output.push(line)),
    });
    try {
      await waitForHttp(`http://127.0.0.1:${opsPort}/readyz`, { timeoutMs: 600_000, intervalMs: 50, alive: () => !agent.hasExited() });
      const startToReadyMs = performance.now() - started;
      // Memory after the first push, once the follow-up work (status writes) has had time to run.
      await sleep(3000);
      const memory = procMemory(agent.pid);
      const base = { offers, source, nodeOptions, entry: options.entry.label, startToReadyMs, rssBytes: memory.rss, peakRssBytes: memory.peak };
      if (options.liveHeap) return { ...base, liveHeapBytes: await snapshotLiveHeap(agent.pid, workDir, opsPort) };
      if (!prepared.agentRequests) {
        const changeToEdgeMs = await timeChange(edge.url, prepared.change);
        return { ...base, ...(changeToEdgeMs !== undefined ? { changeToEdgeMs } : {}) };
      }
      const settleAfterReadyMs = await settle(prepared.agentRequests);
      // A quiet audit log can also mean the agent is gone: that is a failure, not a figure.
      if (agent.hasExited()) throw new Error('the agent exited while its writes settled');
      const idleFrom = (await prepared.agentRequests()).length;
      await sleep(IDLE_HEARTBEATS * REAL_HEARTBEAT_MS + 500);
      const idle = countRequests((await prepared.agentRequests()).slice(idleFrom));
      const changeFrom = (await prepared.agentRequests()).length;
      const changeToEdgeMs = await timeChange(edge.url, prepared.change);
      await settle(prepared.agentRequests);
      const changeRequests = countRequests((await prepared.agentRequests()).slice(changeFrom));
      const api = { heartbeatMs: REAL_HEARTBEAT_MS, idleHeartbeats: IDLE_HEARTBEATS, idle, change: changeRequests, settleAfterReadyMs };
      return { ...base, api, ...(changeToEdgeMs !== undefined ? { changeToEdgeMs } : {}) };
    } catch (error) {
      throw new Error(`${(error as Error).message}\nagent output:\n${output.slice(-10).join('\n')}`);
    } finally {
      await agent.stop();
    }
  } finally {
    await edge.stop();
    await upstream.close();
    await prepared.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  }
}
