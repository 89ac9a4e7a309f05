import type { SnapshotOffer } from '../../core/index.js';
import { atMost, median, type BenchResults } from '../figures.js';
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

export async function acceptCase(edge: RunningWorker, offers: SnapshotOffer[], results: BenchResults): Promise<void> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const push = await signPush(benchSnapshot(offers, 1_000 + i));
    bytes = push.body.length;
    const start = performance.now();
    const res = await sendPush(edge.url, push);
    await res.arrayBuffer();
    const elapsed = performance.now() - start;
    if (res.status !== 200) {
      results.unavailable.push({ case: 'accept', reason: `10,000-offer push answered ${res.status}` });
      return;
    }
    times.push(elapsed);
  }
  const mib = (bytes / 1024 / 1024).toFixed(1);
  results.figures.push(atMost(`accept ${offers.length.toLocaleString('en')}-offer snapshot (PUT round trip)`, median(times), 'ms', 300, `${mib} MiB body, median of 3`));
}
