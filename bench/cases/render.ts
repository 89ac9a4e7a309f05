import type { SnapshotOffer } from '../../core/index.js';
import { atMost, info, median, type BenchResults } from '../figures.js';
import { cpuMs } from '../workerd-cpu.js';
import { benchSnapshot, sendPush, signPush } from '../catalog.js';
import { BENCH_PUBLIC_BASE_URL, type RunningWorker } from '../workers.js';

/**
 * Case 2: render time of the three documents for 10,000 offers, in-process (target ≤ 50 ms each),
 * and the PUT round trip of a 10,000-offer snapshot including the signature check (≤ 300 ms).
 */
const REPEATS = 5;

function timeMs(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function medianOf(fn: () => unknown): number {
  fn(); // warm the JIT once
  return median(Array.from({ length: REPEATS }, () => timeMs(fn)));
}

export async function renderCase(offers: SnapshotOffer[], results: BenchResults): Promise<void> {
  let render;
  try {
    const [services, skill, registration] = await Promise.all([
      import('../../core/render/services-json.js'),
      import('../../core/render/skill-md.js'),
      import('../../core/render/registration.js'),
    ]);
    render = { services, skill, registration };
  } catch (error) {
    results.unavailable.push({ case: 'render', reason: `core/render not available: ${String(error).slice(0, 200)}` });
    return;
  }
  const snapshot = benchSnapshot(offers, 1);
  const params = { snapshot, baseUrl: BENCH_PUBLIC_BASE_URL, nowMs: Date.now() };
  const n = offers.length.toLocaleString('en');
  results.figures.push(
    atMost(`render /api/services.json (${n} offers)`, medianOf(() => render.services.serializeServicesDocument(render.services.renderServicesDocument(params))), 'ms', 50),
    atMost(`render /skill.md (${n} offers)`, medianOf(() => render.skill.renderSkillMarkdown(params)), 'ms', 50),
    atMost(`render agent-registration.json (${n} offers)`, medianOf(() => render.registration.serializeRegistrationDocument(render.registration.renderRegistrationDocument(params))), 'ms', 50),
  );
}

/** `offers` with the description of every `stride`-th offer marked with `round`: a different text for the edge. */
function changed(offers: SnapshotOffer[], round: number, stride: number): SnapshotOffer[] {
  return offers.map((offer, i) => (i % stride === 0 ? { ...offer, description: `${offer.description} (round ${round})` } : offer));
}

/** Median PUT round trip of three pushes, each of `offersOf(round)`; undefined if the edge refused one. */
async function pushTimes(edge: RunningWorker & { pid?: number }, offersOf: (round: number) => SnapshotOffer[], sequence: number, results: BenchResults): Promise<{ ms: number; cpuMs: number | undefined; mib: string } | undefined> {
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const push = await signPush(benchSnapshot(offersOf(round), sequence + round));
    bytes = push.body.length;
    const cpuBefore = cpuMs(edge.pid);
    const start = performance.now();
    const res = await sendPush(edge.url, push);
    await res.arrayBuffer();
    const elapsed = performance.now() - start;
    const cpuAfter = cpuMs(edge.pid);
    if (res.status !== 200) {
      results.unavailable.push({ case: 'accept', reason: `${offersOf(round).length}-offer push answered ${res.status}` });
      return undefined;
    }
    times.push(elapsed);
    if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.push(cpuAfter - cpuBefore);
  }
  return { ms: median(times), cpuMs: cpu.length === 3 ? median(cpu) : undefined, mib: (bytes / 1024 / 1024).toFixed(1) };
}

/**
 * A snapshot whose every offer is new to the edge (a first push, or every offer edited), and the
 * agent's usual re-push (1 % of offers edited): the edge validates only offers whose bytes it has not seen.
 */
export async function acceptCase(edge: RunningWorker & { pid?: number }, offers: SnapshotOffer[], results: BenchResults): Promise<void> {
  const n = offers.length.toLocaleString('en');
  const fresh = await pushTimes(edge, (round) => changed(offers, round, 1), 1_000, results);
  if (!fresh) return;
  results.figures.push(atMost(`accept ${n}-offer snapshot, every offer new (PUT round trip)`, fresh.ms, 'ms', 300, `${fresh.mib} MiB body, median of 3`));
  if (fresh.cpuMs !== undefined) results.figures.push(info(`  workerd CPU per push, every offer new`, fresh.cpuMs, 'ms', 'user + system, 10 ms ticks'));
  const repush = await pushTimes(edge, (round) => changed(offers, round + 10, 100), 2_000, results);
  if (!repush) return;
  results.figures.push(atMost(`accept ${n}-offer re-push, 1 % of offers edited (PUT round trip)`, repush.ms, 'ms', 300, `${repush.mib} MiB body, median of 3`));
  if (repush.cpuMs !== undefined) results.figures.push(info(`  workerd CPU per push, 1 % edited`, repush.cpuMs, 'ms', 'user + system, 10 ms ticks'));
}
