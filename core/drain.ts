import { formatRfc3339, parseDuration, parseRfc3339 } from './time.js';

/** SPEC §3: an offer is active, draining (route up, deadline advertised) or drained (410). */
export type DrainPhase = 'active' | 'draining' | 'drained';

export const DEFAULT_DRAIN_GRACE = '1h';

export interface DrainSchedule {
  /** RFC 3339 UTC, normalised to the second. */
  readonly drainAt: string;
  readonly drainEndsAt: string;
  readonly drainEndsAtMs: number;
}

/** The drain schedule of an offer, or undefined when `drainAt` is not set. Throws on bad input. */
export function drainSchedule(spec: { drainAt?: string; drainGracePeriod?: string }): DrainSchedule | undefined {
  if (spec.drainAt === undefined) return undefined;
  const drainAtMs = parseRfc3339(spec.drainAt);
  const drainEndsAtMs = drainAtMs + parseDuration(spec.drainGracePeriod ?? DEFAULT_DRAIN_GRACE);
  return { drainAt: formatRfc3339(drainAtMs), drainEndsAt: formatRfc3339(drainEndsAtMs), drainEndsAtMs };
}

/** The phase at `nowMs` for an offer whose drain ends at `drainEndsAtMs` (undefined = no drain). */
export function drainPhase(drainEndsAtMs: number | undefined, nowMs: number): DrainPhase {
  if (drainEndsAtMs === undefined) return 'active';
  return nowMs < drainEndsAtMs ? 'draining' : 'drained';
}
