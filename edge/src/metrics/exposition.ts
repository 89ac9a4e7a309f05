import { METRICS, type SeriesSample } from './series.js';

/** Prometheus text exposition format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values escape backslash, double quote and newline (the format's only escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelSet(sample: SeriesSample): string {
  const pairs: [string, string][] = [
    ['offer_namespace', sample.labels.offer_namespace],
    ['offer_name', sample.labels.offer_name],
    ['chain', sample.labels.chain],
    ['asset_symbol', sample.labels.asset_symbol],
  ];
  if (sample.reason !== '') pairs.push(['reason', sample.reason]);
  return pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
}

/** Every metric of SPEC §8 gets its HELP and TYPE lines, even with no series yet. */
export function renderExposition(samples: readonly SeriesSample[]): string {
  const lines: string[] = [];
  for (const metric of METRICS) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.kind}`);
    const own = samples.filter((s) => s.metric === metric.name).map((s) => `${metric.name}{${labelSet(s)}} ${s.value}`);
    lines.push(...own.sort());
  }
  return `${lines.join('\n')}\n`;
}
