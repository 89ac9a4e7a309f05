import { planCatalog, type CatalogPlan, type PlanInput } from '../../core/index.js';
import { reconcileOffer } from '../../cluster-agent/src/agent/reconcile.js';
import { buildSnapshot, encodeSnapshot } from '../../cluster-agent/src/publish/snapshot.js';
import { testSigner } from '../../cluster-agent/test/agent/support.js';
import { benchInputs, benchManifests } from './offers.js';

/**
 * Reconcile + snapshot + sign in-process (issue 4), through the agent's own functions in the order
 * its controller and pusher call them: core `planCatalog` → `reconcileOffer` for every key →
 * `buildSnapshot` (zod-checked) → `encodeSnapshot` → `CatalogSigner.sign`. Parsing the manifests
 * (the sources' job) is timed apart.
 */

export interface PipelineStages {
  readonly parseMs: number;
  readonly planMs: number;
  readonly reconcileMs: number;
  readonly buildMs: number;
  readonly encodeMs: number;
  readonly signMs: number;
  /** plan + reconcile + build + encode + sign. */
  readonly totalMs: number;
  readonly snapshotBytes: number;
}

export interface PipelineResult extends PipelineStages {
  readonly offers: number;
  readonly repetitions: number;
}

const HEALTHY = { healthy: true, message: 'GET http://127.0.0.1/health answered 200' };

function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
}

function reconcileAll(plan: CatalogPlan, nowMs: number): number {
  let changed = 0;
  for (const decision of plan.decisions) {
    const outcome = reconcileOffer({
      decision,
      generation: 1,
      previous: undefined,
      health: HEALTHY,
      acknowledgedSequence: undefined,
      routeManagement: false,
      routeName: `${decision.key}-route`,
      publicBaseUrl: 'https://agent-bench.obol.example',
      nowMs,
    });
    if (outcome.statusChanged) changed++;
  }
  return changed;
}

async function runOnce(inputs: readonly PlanInput[], sign: (body: Uint8Array) => Promise<unknown>): Promise<Omit<PipelineStages, 'parseMs'>> {
  const nowMs = Date.now();
  const plan = timed(() => planCatalog({ offers: inputs, observe: () => ({ upstreamHealthy: true, routePublished: false }), routeManagement: false, source: 'kube', nowMs }));
  if (plan.value.offers.length !== inputs.length) throw new Error(`only ${plan.value.offers.length} of ${inputs.length} offers were planned into the snapshot`);
  const reconcile = timed(() => reconcileAll(plan.value, nowMs));
  if (reconcile.value !== inputs.length) throw new Error('reconcile produced no status for some offers');
  const build = timed(() => buildSnapshot({ offers: plan.value.offers, identity: { registrations: [] }, audience: 'https://agent-bench.obol.example', sequence: nowMs, issuedAtMs: nowMs }));
  const encode = timed(() => encodeSnapshot(build.value));
  const signStarted = performance.now();
  await sign(encode.value);
  const signMs = performance.now() - signStarted;
  return {
    planMs: plan.ms,
    reconcileMs: reconcile.ms,
    buildMs: build.ms,
    encodeMs: encode.ms,
    signMs,
    totalMs: plan.ms + reconcile.ms + build.ms + encode.ms + signMs,
    snapshotBytes: encode.value.byteLength,
  };
}

/** Median of each stage over `repetitions` runs, after one warm-up run. */
export async function measurePipeline(offers: number, repetitions = 5): Promise<PipelineResult> {
  const manifests = benchManifests(offers, 'http://127.0.0.1:9/');
  const parse = timed(() => benchInputs(manifests));
  const invalid = parse.value.filter((i) => !i.parsed.ok).length;
  if (invalid) throw new Error(`${invalid} bench manifests failed validation`);
  const signer = testSigner();
  await runOnce(parse.value, (body) => signer.sign(body));
  const runs: Omit<PipelineStages, 'parseMs'>[] = [];
  for (let i = 0; i < repetitions; i++) runs.push(await runOnce(parse.value, (body) => signer.sign(body)));
  const mid = (pick: (r: Omit<PipelineStages, 'parseMs'>) => number) => {
    const sorted = runs.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  return {
    offers,
    repetitions,
    parseMs: parse.ms,
    planMs: mid((r) => r.planMs),
    reconcileMs: mid((r) => r.reconcileMs),
    buildMs: mid((r) => r.buildMs),
    encodeMs: mid((r) => r.encodeMs),
    signMs: mid((r) => r.signMs),
    totalMs: mid((r) => r.totalMs),
    snapshotBytes: runs[0]?.snapshotBytes ?? 0,
  };
}
