import { DEFAULT_DRAIN_GRACE, describeProblems, drainPhase, drainSchedule, formatRfc3339, InvalidDurationError, parseDuration, parseServiceOffer, type OfferProblem } from '../../../core/index.js';
import type { OfferRecord } from './target.js';

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

/** The offer's problems by the agent's own rules (core `parseServiceOffer`); none when it is valid. */
function problemsOf(object: unknown): readonly OfferProblem[] {
  const parsed = parseServiceOffer(object);
  return parsed.ok ? [] : parsed.problems;
}

/** The offer as stored after the edit: `fields` written into its spec, or both removed when null. */
function edited(object: unknown, fields: Required<DrainFields> | null): unknown {
  const { spec, ...rest } = object as { spec?: Record<string, unknown> };
  const { drainAt: _drainAt, drainGracePeriod: _grace, ...kept } = spec ?? {};
  return { ...rest, spec: { ...kept, ...fields } };
}

const EDITED_FIELDS = new Set(['spec.drainAt', 'spec.drainGracePeriod']);

/**
 * Refuse an edit the agent would judge invalid: it would take the offer down at once (InvalidSpec)
 * instead of draining it. A problem counts when the edit brings it or sits in a field the edit
 * writes; the offer's other, older problems are not the edit's.
 */
export function checkEdit(record: OfferRecord, fields: Required<DrainFields> | null): void {
  const before = problemsOf(record.object);
  const brought = problemsOf(edited(record.object, fields)).filter(
    (problem) => EDITED_FIELDS.has(problem.field) || !before.some((old) => old.field === problem.field && old.message === problem.message),
  );
  if (brought.length === 0) return;
  throw new SellError('invalid_offer', `offer ${record.namespace}/${record.name} not changed: the edit would make it invalid, and the agent would take its route down at once: ${describeProblems(brought)}`);
}

/** The fields `sell stop` writes: `drainAt` = now (UTC, to the second) and an explicit grace. */
export function planStop(record: OfferRecord, options: StopOptions): Required<DrainFields> {
  const current = record.drain;
  if (current.drainAt !== undefined && !options.force) {
    throw new SellError('already_draining', `offer ${record.namespace}/${record.name} is already ${describeDrain(current, options.nowMs)}; use --force to restart the drain from now, or "sell resume" to cancel it`);
  }
  if (options.immediately && options.grace !== undefined) throw new SellError('usage', '--now drains at once (grace 0s); it cannot be combined with --grace');
  const grace = options.immediately ? '0s' : checkGrace(options.grace ?? current.drainGracePeriod ?? DEFAULT_DRAIN_GRACE);
  const fields = { drainAt: formatRfc3339(options.nowMs), drainGracePeriod: grace };
  checkEdit(record, fields);
  return fields;
}
