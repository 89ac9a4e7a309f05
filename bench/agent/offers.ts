import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServiceOffer, type PlanInput } from '../../core/index.js';
import { offerManifest } from '../../cluster-agent/test/agent/support.js';

/**
 * Bench ServiceOffers: N valid manifests spread over a few namespaces, each with its own path and
 * an `obol.org/upstream-url` pointing at one local always-200 upstream, registration enabled.
 */

export const BENCH_NAMESPACES = ['llm', 'tools', 'agents', 'media'];

export function benchManifests(count: number, upstreamUrl: string): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `offer-${String(i).padStart(5, '0')}`;
    const manifest = offerManifest(name, upstreamUrl, {
      registration: { enabled: true, description: `bench offer ${i}`, skills: ['chat'], domains: ['ai'] },
    }, BENCH_NAMESPACES[i % BENCH_NAMESPACES.length]);
    const metadata = manifest.metadata as Record<string, unknown>;
    // Distinct creation times keep path-conflict resolution (oldest wins) meaningful.
    return { ...manifest, metadata: { ...metadata, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 86_400)).toISOString().replace('.000Z', 'Z') } };
  });
}

/** The manifests as the sources hand them to the controller: parsed and checked by core. */
export function benchInputs(manifests: readonly Record<string, unknown>[]): PlanInput[] {
  return manifests.map((m) => {
    const meta = m.metadata as { namespace: string; name: string };
    return { key: `${meta.namespace}/${meta.name}`, parsed: parseServiceOffer(m) };
  });
}

/** One JSON manifest per offer, as a seller's `--source dir:` directory would hold them. */
export function writeManifestDir(dir: string, manifests: readonly Record<string, unknown>[]): void {
  mkdirSync(dir, { recursive: true });
  for (const m of manifests) {
    const meta = m.metadata as { namespace: string; name: string };
    writeFileSync(join(dir, `${meta.namespace}-${meta.name}.json`), JSON.stringify(m));
  }
}
