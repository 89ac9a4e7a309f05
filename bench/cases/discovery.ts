import { runLoad } from '../child-load.js';
import { atLeast, atMost, type BenchResults } from '../figures.js';
import { capture, startConstantWorker, type RunningWorker } from '../workers.js';

/**
 * Case 1: discovery documents of a 1,000-offer catalog served by our edge vs a constant worker
 * returning the same bytes with the same headers. Targets: ≥ 0.5× throughput, p99 ≤ 2×.
 */
const DOCUMENTS = ['/api/services.json', '/skill.md'] as const;
const LOAD = { connections: 10, durationSec: 4, warmupSec: 1 };

export async function discoveryCase(edge: RunningWorker, results: BenchResults): Promise<void> {
  const captured = await Promise.all(DOCUMENTS.map((path) => capture(edge.url, path)));
  const broken = captured.find((c) => c.status !== 200);
  if (broken) {
    results.unavailable.push({ case: 'discovery', reason: `${broken.path} answered ${broken.status}: ${broken.body.slice(0, 120)}` });
    return;
  }
  const constant = await startConstantWorker(captured);
  try {
    for (const doc of captured) {
      const ours = await runLoad({ url: `${edge.url}${doc.path}`, expectStatus: 200, ...LOAD });
      const base = await runLoad({ url: `${constant.url}${doc.path}`, expectStatus: 200, ...LOAD });
      results.runs[`discovery ${doc.path} (ours)`] = ours;
      results.runs[`discovery ${doc.path} (constant)`] = base;
      const wire = doc.bodyEncoding === 'base64' ? Buffer.from(doc.body, 'base64').length : Buffer.byteLength(doc.body);
      const note = `${Math.round(wire / 1024)} KiB on the wire${doc.headers['content-encoding'] ? ` (${doc.headers['content-encoding']})` : ''}`;
      results.figures.push(
        atLeast(`${doc.path} throughput ours/constant`, ours.requestsPerSec / base.requestsPerSec, '×', 0.5, note),
        atMost(`${doc.path} p99 ours/constant`, ours.latencyP99 / Math.max(base.latencyP99, 1), '×', 2),
      );
    }
  } finally {
    await constant.dispose();
  }
}
