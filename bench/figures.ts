/** What one bench run produces: load runs, derived figures with their targets, and skipped cases. */
import type { LoadResult } from './load.js';

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. "≥ 0.5", "≤ 50". */
  readonly target?: string;
  readonly pass?: boolean;
  readonly note?: string;
}

export interface BenchResults {
  readonly measuredAt: string;
  readonly machine: { readonly cpus: number; readonly node: string; /** 1-minute load average when the run started and ended: ratios drift on a busy machine. */ readonly loadAverage?: { start: number; end?: number } };
  readonly runs: Record<string, LoadResult>;
  readonly figures: Figure[];
  readonly unavailable: { case: string; reason: string }[];
}

export function atMost(name: string, value: number, unit: string, limit: number, note?: string): Figure {
  return { name, value, unit, target: `≤ ${limit}`, pass: value <= limit, ...(note ? { note } : {}) };
}

export function atLeast(name: string, value: number, unit: string, limit: number, note?: string): Figure {
  return { name, value, unit, target: `≥ ${limit}`, pass: value >= limit, ...(note ? { note } : {}) };
}

export function info(name: string, value: number, unit: string, note?: string): Figure {
  return { name, value, unit, ...(note ? { note } : {}) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const round = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2));

export function formatRuns(runs: Record<string, LoadResult>): string {
  const header = ['run', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'unexpected', 'errors'];
  const rows = Object.entries(runs).map(([name, r]) => [name, round(r.requestsPerSec), round(r.latencyP50), round(r.latencyP99), String(r.total), String(r.unexpectedStatus), String(r.errors)]);
  return table([header, ...rows]);
}

export function formatFigures(figures: readonly Figure[]): string {
  const header = ['figure', 'value', 'unit', 'target', 'ok'];
  const rows = figures.map((f) => [f.name, round(f.value), f.unit, f.target ?? '', f.pass === undefined ? '' : f.pass ? 'yes' : 'NO']);
  return table([header, ...rows]);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
