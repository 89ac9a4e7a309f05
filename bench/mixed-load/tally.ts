import { percentile } from './schedule.js';
import { TRAFFIC_KINDS, type TrafficKind } from './options.js';

/** Per-kind counters of one run: what was sent, what came back, how long it took. */
export const EXPECTED_STATUS: Readonly<Record<TrafficKind, number>> = {
  discovery: 200,
  unpaid: 402,
  paid: 200,
  replay: 402,
  garbage: 400,
};

const MAX_DISTINCT_REASONS = 12;

export interface KindReport {
  readonly expectedStatus: number;
  readonly requests: number;
  readonly completed: number;
  readonly statuses: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Network errors, timeouts and requests skipped because the client backlog was full. */
  readonly errors: number;
  /** Of `errors`: requests the client gave up on (a paid one may still have been settled). */
  readonly timeouts: number;
  /** Of `errors`: slots not sent because `maxInFlight` requests were already waiting. */
  readonly skipped: number;
  /** Completed with a status other than `expectedStatus`. */
  readonly unexpected: number;
  /** `error`/`reason` of unexpected answers and causes of errors, counted (at most a dozen distinct). */
  readonly unexpectedReasons: Record<string, number>;
}

class KindTally {
  requests = 0;
  errors = 0;
  timeouts = 0;
  skipped = 0;
  readonly latencies: number[] = [];
  readonly statuses: Record<string, number> = {};
  readonly reasons: Record<string, number> = {};
  constructor(readonly expectedStatus: number) {}

  report(): KindReport {
    const completed = this.latencies.length;
    const unexpected = completed - (this.statuses[String(this.expectedStatus)] ?? 0);
    return {
      expectedStatus: this.expectedStatus,
      requests: this.requests,
      completed,
      statuses: this.statuses,
      p50Ms: round(percentile(this.latencies, 50)),
      p99Ms: round(percentile(this.latencies, 99)),
      errors: this.errors,
      timeouts: this.timeouts,
      skipped: this.skipped,
      unexpected,
      unexpectedReasons: this.reasons,
    };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export class Tally {
  private readonly kinds = new Map<TrafficKind, KindTally>(TRAFFIC_KINDS.map((k) => [k, new KindTally(EXPECTED_STATUS[k])]));

  private of(kind: TrafficKind): KindTally {
    const tally = this.kinds.get(kind);
    if (!tally) throw new Error(`unknown kind ${kind}`);
    return tally;
  }

  sent(kind: TrafficKind): void {
    this.of(kind).requests += 1;
  }

  answered(kind: TrafficKind, status: number, latencyMs: number, reason?: string): void {
    const t = this.of(kind);
    t.latencies.push(latencyMs);
    t.statuses[String(status)] = (t.statuses[String(status)] ?? 0) + 1;
    if (status === t.expectedStatus) return;
    const key = `${status} ${reason ?? '-'}`.slice(0, 120);
    if (key in t.reasons || Object.keys(t.reasons).length < MAX_DISTINCT_REASONS) t.reasons[key] = (t.reasons[key] ?? 0) + 1;
  }

  failed(kind: TrafficKind, cause: 'network' | 'timeout' | 'backlog', detail?: string): void {
    const t = this.of(kind);
    t.errors += 1;
    const key = `error ${detail ?? cause}`.slice(0, 120);
    if (key in t.reasons || Object.keys(t.reasons).length < MAX_DISTINCT_REASONS) t.reasons[key] = (t.reasons[key] ?? 0) + 1;
    if (cause === 'timeout') t.timeouts += 1;
    if (cause === 'backlog') t.skipped += 1;
  }

  report(): Record<TrafficKind, KindReport> {
    return Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, this.of(k).report()])) as Record<TrafficKind, KindReport>;
  }
}
