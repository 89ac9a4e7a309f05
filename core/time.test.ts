import { describe, expect, it } from 'vitest';
import { formatHttpDate, formatRfc3339, InvalidDurationError, InvalidTimeError, isDuration, parseDuration, parseRfc3339 } from './time.js';

describe('parseDuration', () => {
  it('reads h/m/s durations in milliseconds', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('2h0m5s')).toBe(7_205_000);
    expect(parseDuration('90s')).toBe(90_000);
  });

  it('refuses what is not a duration, naming the value', () => {
    for (const value of ['', '1d', 'h', '1.5h', '30 m', '-1h', '1m1h', '1H', '10', 'ms', '1h ']) {
      expect(() => parseDuration(value), value).toThrow(InvalidDurationError);
      expect(isDuration(value)).toBe(false);
    }
    expect(() => parseDuration('1d')).toThrow('"1d" is not a duration like "30m", "1h30m" or "0s"');
  });

  it('refuses a duration too large to count in milliseconds', () => {
    expect(() => parseDuration(`${'9'.repeat(20)}h`)).toThrow(InvalidDurationError);
  });
});

describe('parseRfc3339 / formatRfc3339', () => {
  it('normalises offsets to UTC and truncates fractions to the second', () => {
    expect(formatRfc3339(parseRfc3339('2026-06-01T15:00:00+02:00'))).toBe('2026-06-01T13:00:00Z');
    expect(formatRfc3339(parseRfc3339('2026-06-01T13:00:00.999Z'))).toBe('2026-06-01T13:00:00Z');
    expect(formatRfc3339(parseRfc3339('2026-06-01t13:00:00z'))).toBe('2026-06-01T13:00:00Z');
    expect(parseRfc3339('1970-01-01T00:00:01Z')).toBe(1000);
  });

  it('refuses malformed or impossible times', () => {
    for (const value of ['', '2026-06-01', '2026-06-01 13:00:00Z', '2026-06-01T13:00Z', '2026-06-01T13:00:00', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01T23:60:00Z', 'tomorrow']) {
      expect(() => parseRfc3339(value), value).toThrow(InvalidTimeError);
    }
  });

  it('accepts February 29 in a leap year only', () => {
    expect(formatRfc3339(parseRfc3339('2028-02-29T00:00:00Z'))).toBe('2028-02-29T00:00:00Z');
    expect(() => parseRfc3339('2026-02-29T00:00:00Z')).toThrow(InvalidTimeError);
  });
});

describe('formatHttpDate', () => {
  it('writes an IMF-fixdate for Sunset headers', () => {
    expect(formatHttpDate(parseRfc3339('2026-06-01T13:00:00Z'))).toBe('Mon, 01 Jun 2026 13:00:00 GMT');
  });
});
