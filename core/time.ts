/** Time rules shared by the agent and the edge (SPEC §3): RFC 3339 UTC to the second, durations. */

export const DURATION_PATTERN = '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$';
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export class InvalidDurationError extends Error {
  readonly reason = 'invalid_duration';
  constructor(readonly value: string) {
    super(`"${value}" is not a duration like "30m", "1h30m" or "0s"`);
    this.name = 'InvalidDurationError';
  }
}

/** Parse `1h30m`-style durations into milliseconds. The empty string is not a duration. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value);
  if (!match || value === '') throw new InvalidDurationError(value);
  const [, h = '0', m = '0', s = '0'] = match;
  const ms = (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000;
  if (!Number.isSafeInteger(ms)) throw new InvalidDurationError(value);
  return ms;
}

export function isDuration(value: string): boolean {
  try {
    parseDuration(value);
    return true;
  } catch {
    return false;
  }
}

/** RFC 3339 with an offset; fractions allowed on input. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export class InvalidTimeError extends Error {
  readonly reason = 'invalid_time';
  constructor(readonly value: string) {
    super(`"${value}" is not an RFC 3339 time like "2026-06-01T13:00:00Z"`);
    this.name = 'InvalidTimeError';
  }
}

/** Date.parse rolls impossible dates over (Feb 30 → Mar 2, 24:00 → next day); RFC 3339 does not. */
function isCalendarTime(value: string): boolean {
  const [year, month, day, hour] = [value.slice(0, 4), value.slice(5, 7), value.slice(8, 10), value.slice(11, 13)].map(Number);
  if (year === undefined || month === undefined || day === undefined || hour === undefined) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23;
}

/** Whether `value` is an RFC 3339 time naming a real instant (what parseRfc3339 accepts). */
export function isRealInstant(value: string): boolean {
  return RFC3339.test(value) && isCalendarTime(value) && !Number.isNaN(Date.parse(value));
}

/** Parse an RFC 3339 time to epoch milliseconds, truncated to the second. */
export function parseRfc3339(value: string): number {
  if (!isRealInstant(value)) throw new InvalidTimeError(value);
  return Math.floor(Date.parse(value) / 1000) * 1000;
}

/** Format epoch milliseconds as RFC 3339 UTC to the second, e.g. `2026-06-01T13:00:00Z`. */
export function formatRfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 8594 `Sunset` / HTTP-date (IMF-fixdate). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
