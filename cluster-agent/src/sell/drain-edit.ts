import { DEFAULT_DRAIN_GRACE, drainPhase, drainSchedule, formatRfc3339, InvalidDurationError, parseDuration } from '../../../core/index.js';

/**
 * The pure part of `sell stop` / `sell resume`: what to write into an offer's spec, and how to
 * describe its drain phase. Sources (cluster, manifest directory) only apply the result.
 */

export type SellErrorReason = 'usage' | 'offer_not_found' | 'already_draining' | 'invalid_duration' | 'invalid_offer' | 'conflict' | 'source_failed';

export class SellError extends Error {
  constructor(
    readonly reason: SellErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'SellError';
  }
}

/** The two spec fields `sell` edits. */
export interface DrainFields {
  readonly drainAt?: string;
  readonly drainGracePeriod?: string;
}

export interface StopOptions {
  readonly nowMs: number;
  /** `--grace`: a duration like `30m`; default the offer's own grace, else 1h. */
  readonly grace?: string;
  /** `--now`: drain at once (grace `0s`). */
  readonly immediately: boolean;
  /** `--force`: restart the drain of an offer that is already draining (or drained). */
  readonly force: boolean;
}

/** Validate a `--grace` value with the core duration rule; a clear error names the flag. */
export function checkGrace(grace: string): string {
  try {
    parseDuration(grace);
    return grace;
  } catch (error) {
    if (error instanceof InvalidDurationError) throw new SellError('invalid_duration', `--grace: ${error.message}`);
    throw error;
  }
}

/** `active`, `draining (ends …)` or `drained (since …)`; a malformed drain is named, not thrown. */
export function describeDrain(spec: DrainFields, nowMs: number): string {
  let schedule;
  try {
    schedule = drainSchedule(spec);
  } catch (error) {
    return `invalid drain (${(error as Error).message})`;
  }
  if (!schedule) return 'active';
  const phase = drainPhase(schedule.drainEndsAtMs, nowMs);
  return phase === 'draining' ? `draining (ends ${schedule.drainEndsAt})` : `drained (since ${schedule.drainEndsAt})`;
}

/** The fields `sell stop` writes: `drainAt` = now (UTC, to the second) and an explicit grace. */
export function planStop(key: string, current: DrainFields, options: StopOptions): Required<DrainFields> {
  if (current.drainAt !== undefined && !options.force) {
    throw new SellError('already_draining', `offer ${key} is already ${describeDrain(current, options.nowMs)}; use --force to restart the drain from now, or "sell resume" to cancel it`);
  }
  if (options.immediately && options.grace !== undefined) throw new SellError('usage', '--now drains at once (grace 0s); it cannot be combined with --grace');
  const grace = options.immediately ? '0s' : checkGrace(options.grace ?? current.drainGracePeriod ?? DEFAULT_DRAIN_GRACE);
  return { drainAt: formatRfc3339(options.nowMs), drainGracePeriod: grace };
}
