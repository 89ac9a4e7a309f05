import { TRAFFIC_KINDS, type Mix, type TrafficKind } from './options.js';

/**
 * The order of request kinds: smooth weighted round-robin over the mix, so every prefix of the
 * run holds each kind in proportion (no bursts of one kind) and the totals are exact and known
 * before the run (paid authorizations are signed up front).
 */
export function kindSequence(mix: Mix, total: number): TrafficKind[] {
  const current = new Map<TrafficKind, number>(TRAFFIC_KINDS.map((k) => [k, 0]));
  const sum = TRAFFIC_KINDS.reduce((acc, k) => acc + mix[k], 0);
  const out: TrafficKind[] = [];
  for (let i = 0; i < total; i++) {
    let best: TrafficKind | undefined;
    for (const kind of TRAFFIC_KINDS) {
      if (mix[kind] === 0) continue;
      const value = (current.get(kind) ?? 0) + mix[kind];
      current.set(kind, value);
      if (best === undefined || value > (current.get(best) ?? 0)) best = kind;
    }
    if (best === undefined) break;
    current.set(best, (current.get(best) ?? 0) - sum);
    out.push(best);
  }
  return out;
}

export function countKinds(sequence: readonly TrafficKind[]): Record<TrafficKind, number> {
  const counts = Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, 0])) as Record<TrafficKind, number>;
  for (const kind of sequence) counts[kind] += 1;
  return counts;
}

/** Nearest-rank percentile of unsorted samples; 0 when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}
