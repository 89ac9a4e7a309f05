import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { z } from 'zod';
import { catalogSigner } from '../../cluster-agent/src/publish/signer.js';
import { startUpstream } from '../../cluster-agent/test/agent/support.js';
import { startFakeApiServer, type FakeApiServer } from '../../cluster-agent/test/fake-apiserver/server.js';
import { spawnManaged, waitForHttp } from '../../stack/processes.js';
import { ROOT } from '../../test/support/edge-bundle.js';
import { freePort, startWranglerEdge } from './edge-process.js';
import { BENCH_NAMESPACES, benchManifests, writeManifestDir } from './offers.js';
import { patchPrice } from './propagation.js';

/**
 * The agent as deployed (`obol-edge agent`, a child process in its own group) over N offers from a
 * `dir:` source or the fake API server (`--source kube`, no routes, no election), pushing to the
 * edge under `wrangler dev`. Measures start → first acknowledged push (`/readyz` 200), resident
 * memory afterwards (`VmRSS`, peak `VmHWM`, from /proc/<pid>/status), and one price change at that
 * size (file edit or PATCH → the edge's sequence moves).
 */

export type BenchSource = 'dir' | 'kube';

export interface AgentProcessResult {
  readonly offers: number;
  readonly source: BenchSource;
  /** NODE_OPTIONS given to the agent, if any. */
  readonly nodeOptions?: string;
  readonly startToReadyMs: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  /** Absent when the edge did not show the change within the deadline. */
  readonly changeToEdgeMs?: number;
}

interface Prepared {
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** Make one price change; resolves once the change was written. */
  readonly change: () => Promise<void>;
  readonly cleanup: () => Promise<void>;
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

export async function measureAgentProcess(offers: number, source: BenchSource, nodeOptions?: string): Promise<AgentProcessResult> {
  const key = generatePrivateKey();
  const upstream = await startUpstream();
  const edge = await startWranglerEdge({ CATALOG_SIGNERS: catalogSigner(key).address, PUBLIC_BASE_URL: 'https://agent-bench.obol.example' });
  const manifests = benchManifests(offers, upstream.url);
  const prepared = source === 'dir' ? prepareDir(manifests) : await prepareKube(manifests);
  const output: string[] = [];
  try {
    const opsPort = await freePort();
    const started = performance.now();
    const agent = spawnManaged({
      name: 'agent',
      command: process.execPath,
      args: [join(ROOT, 'cluster-agent', 'bin', 'obol-edge.mjs'), 'agent', ...prepared.args, '--edge', edge.url, '--ops-addr', `127.0.0.1:${opsPort}`, '--log-level', 'warn'],
      cwd: ROOT,
      env: { ...process.env, ...prepared.env, OBOL_CATALOG_KEY: key, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
      onLine: (line) => void (output.length < 200 && output.push(line)),
    });
    try {
      await waitForHttp(`http://127.0.0.1:${opsPort}/readyz`, { timeoutMs: 180_000, intervalMs: 50, alive: () => !agent.hasExited() });
      const startToReadyMs = performance.now() - started;
      // Memory after the first push, once the follow-up work (status writes) has had time to run.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const memory = procMemory(agent.pid);
      const changeToEdgeMs = await timeChange(edge.url, prepared.change);
      return { offers, source, ...(nodeOptions ? { nodeOptions } : {}), startToReadyMs, rssBytes: memory.rss, peakRssBytes: memory.peak, ...(changeToEdgeMs !== undefined ? { changeToEdgeMs } : {}) };
    } catch (error) {
      throw new Error(`${(error as Error).message}\nagent output:\n${output.slice(-10).join('\n')}`);
    } finally {
      await agent.stop();
    }
  } finally {
    await edge.stop();
    await upstream.close();
    await prepared.cleanup();
  }
}
