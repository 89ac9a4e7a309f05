import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgent } from '../../cluster-agent/deploy/bundle.js';
import { deployedNodeOptions } from '../../cluster-agent/deploy/node-options.js';
import { atMost, info, type Figure } from '../figures.js';
import { measurePipeline, type PipelineResult } from './pipeline.js';
import { measurePropagation } from './propagation.js';
import { measureAgentProcess, type AgentProcessResult, type BenchSource } from './rss.js';

/**
 * The cluster-agent bench (issue 4 "Performance"): propagation latency through `wrangler dev`,
 * reconcile + snapshot + sign at 1,000 and 10,000 offers, and the deployed agent's memory at
 * 10,000 offers: the image's bundle (`cluster-agent/deploy/bundle.ts`) run by `node` with the
 * Deployment's NODE_OPTIONS, plus a diagnostic run per source for the live heap under those flags.
 * A case that fails is reported as unavailable; the others still run.
 */

export interface PropagationFigures {
  readonly changes: number;
  readonly offers: number;
  readonly debounceMs: number;
  readonly pollMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly minMs: number;
  readonly timeouts: number;
}

export interface AgentBenchFigures {
  readonly measuredAt: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly propagation?: PropagationFigures;
  readonly pipeline: PipelineResult[];
  readonly process: AgentProcessResult[];
  /** Headline numbers with the issue's targets. */
  readonly figures: Figure[];
  readonly unavailable: { case: string; reason: string }[];
}

export interface AgentBenchOptions {
  readonly changes?: number;
  readonly pipelineSizes?: readonly number[];
  readonly processOffers?: number;
  /** Skip the live-heap diagnostic runs (a heap snapshot per source). */
  readonly skipLiveHeap?: boolean;
  /** Also run each source with no NODE_OPTIONS at all, for comparison (not how it is deployed). */
  readonly unboundedRun?: boolean;
  /** Skip the real control plane run (it needs Go, and builds the binaries on first use). */
  readonly skipRealCluster?: boolean;
}

const POLL_MS = 5;
const MIB = 1024 * 1024;

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

async function guarded(name: string, unavailable: AgentBenchFigures['unavailable'], fn: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    unavailable.push({ case: name, reason: String(error).slice(0, 600) });
  }
  console.error(JSON.stringify({ level: 'info', msg: 'agent bench case done', case: name, seconds: Math.round((performance.now() - started) / 100) / 10 }));
}

function propagationFigures(p: PropagationFigures): Figure[] {
  const note = `${p.changes} PATCHes of one offer's price (${p.offers} offers), agent debounce ${p.debounceMs} ms, edge polled every ${p.pollMs} ms`;
  return [
    atMost('propagation p50 (PATCH → wrangler dev serves it)', p.p50Ms, 'ms', 300, note),
    atMost('propagation p99', p.p99Ms, 'ms', 1000),
    info('propagation max', p.maxMs, 'ms'),
    atMost('propagation changes not seen within 10 s', p.timeouts, 'changes', 0),
  ];
}

const SOURCE_LABEL: Record<BenchSource, string> = {
  dir: '--source dir',
  kube: '--source kube on the fake API server (no routes, no election)',
  'kube-real': '--source kube on a real API server (routes, election, SA token)',
};

function apiFigures(r: AgentProcessResult): Figure[] {
  if (!r.api) return [];
  const { api } = r;
  const idle = `${api.idleHeartbeats} heartbeats of ${api.heartbeatMs / 1000} s, ${r.offers} unchanged offers, audit log of the API server`;
  return [
    atMost(`API writes (offer status, finalizers, routes) over ${api.idleHeartbeats} idle heartbeats, ${r.offers} offers`, api.idle.offerAndRouteWrites, 'writes', 0, idle),
    info('API requests per idle heartbeat (all, incl. Lease renewals)', api.idle.all / api.idleHeartbeats, 'requests', `of which Lease: ${api.idle.lease} in ${api.idleHeartbeats} heartbeats`),
    info('API requests for one changed offer (its push and follow-up)', api.change.all, 'requests', `offer and route writes ${api.change.offerAndRouteWrites}, Lease ${api.change.lease}`),
    info('first acknowledged push → the agent stopped writing (statuses, finalizers, routes)', api.settleAfterReadyMs, 'ms'),
  ];
}

function processFigures(r: AgentProcessResult): Figure[] {
  const how = `${SOURCE_LABEL[r.source]}, ${r.nodeOptions ? `NODE_OPTIONS=${r.nodeOptions}` : 'no NODE_OPTIONS'}`;
  const change = r.source === 'dir' ? `edit one of ${r.offers} manifest files` : `PATCH one of ${r.offers} offers`;
  if (r.liveHeapBytes !== undefined) {
    return [info(`agent live heap after its first push, ${r.offers} offers, ${how}`, r.liveHeapBytes / MIB, 'MiB', `heap snapshot (full GC first) of a separate run with --heapsnapshot-signal added; ${r.entry}`)];
  }
  return [
    atMost(`agent RSS after first push, ${r.offers} offers, ${how}`, r.rssBytes / MIB, 'MiB', 256, `peak (VmHWM) ${(r.peakRssBytes / MIB).toFixed(0)} MiB; ${r.entry}, /proc/<pid>/status`),
    info(`agent start → first push acknowledged, ${how}`, r.startToReadyMs, 'ms', 'process start, list offers, probe every upstream, plan, push'),
    r.changeToEdgeMs !== undefined
      ? atMost(`one change → edge sequence moves, ${how}`, r.changeToEdgeMs, 'ms', 2000, change)
      : atMost(`one change → edge sequence moves, ${how}`, 60_000, 'ms (not seen; deadline)', 2000, `${change}: not seen within 60 s`),
    ...apiFigures(r),
  ];
}

/** A comparison run without the deployed flags: reported, never judged against the targets. */
function unbounded(figure: Figure): Figure {
  return info(`${figure.name} (comparison, not deployed)`, figure.value, figure.unit, figure.note);
}

export async function runAgentBench(options: AgentBenchOptions = {}): Promise<AgentBenchFigures> {
  const unavailable: AgentBenchFigures['unavailable'] = [];
  const figures: Figure[] = [];
  const pipeline: PipelineResult[] = [];
  const processes: AgentProcessResult[] = [];
  let propagation: PropagationFigures | undefined;
  await guarded('propagation', unavailable, async () => {
    const r = await measurePropagation({ changes: options.changes ?? 100, pollMs: POLL_MS });
    const max = r.samplesMs.length ? Math.max(...r.samplesMs) : Number.NaN;
    const min = r.samplesMs.length ? Math.min(...r.samplesMs) : Number.NaN;
    propagation = { changes: options.changes ?? 100, offers: r.offers, debounceMs: r.debounceMs, pollMs: POLL_MS, p50Ms: percentile(r.samplesMs, 50), p99Ms: percentile(r.samplesMs, 99), maxMs: max, minMs: min, timeouts: r.timeouts };
    figures.push(...propagationFigures(propagation));
  });
  for (const size of options.pipelineSizes ?? [1_000, 10_000]) {
    await guarded(`reconcile+snapshot+sign ${size}`, unavailable, async () => {
      const r = await measurePipeline(size);
      pipeline.push(r);
      const stages = `plan ${r.planMs.toFixed(0)}, reconcile ${r.reconcileMs.toFixed(0)}, build ${r.buildMs.toFixed(0)}, encode ${r.encodeMs.toFixed(0)}, sign ${r.signMs.toFixed(0)} ms; ${(r.snapshotBytes / MIB).toFixed(1)} MiB`;
      figures.push(size === 10_000 ? atMost(`reconcile+snapshot+sign, ${size} offers`, r.totalMs, 'ms', 2000, stages) : info(`reconcile+snapshot+sign, ${size} offers`, r.totalMs, 'ms', stages));
    });
  }
  const offers = options.processOffers ?? 10_000;
  const deployed = deployedNodeOptions();
  const bundleDir = mkdtempSync(join(tmpdir(), 'obol-agent-bench-bundle-'));
  try {
    const entry = { file: await bundleAgent(join(bundleDir, 'obol-edge.mjs')), label: 'node obol-edge.mjs (the image bundle)' };
    const runs: Array<{ source: BenchSource; nodeOptions: string; liveHeap?: boolean }> = [
      { source: 'kube', nodeOptions: deployed },
      ...(options.skipRealCluster ? [] : [{ source: 'kube-real' as const, nodeOptions: deployed }]),
      { source: 'dir', nodeOptions: deployed },
      ...(options.skipLiveHeap ? [] : [{ source: 'kube' as const, nodeOptions: deployed, liveHeap: true }, { source: 'dir' as const, nodeOptions: deployed, liveHeap: true }]),
      ...(options.unboundedRun ? [{ source: 'kube' as const, nodeOptions: '' }, { source: 'dir' as const, nodeOptions: '' }] : []),
    ];
    for (const run of runs) {
      await guarded(`agent process ${offers} ${run.source} NODE_OPTIONS="${run.nodeOptions}"${run.liveHeap ? ' live heap' : ''}`, unavailable, async () => {
        const r = await measureAgentProcess(offers, run.source, { entry, nodeOptions: run.nodeOptions, ...(run.liveHeap ? { liveHeap: true } : {}) });
        processes.push(r);
        figures.push(...(run.nodeOptions === deployed || r.liveHeapBytes !== undefined ? processFigures(r) : processFigures(r).map(unbounded)));
      });
    }
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
  return { measuredAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, ...(propagation ? { propagation } : {}), pipeline, process: processes, figures, unavailable };
}
