import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_GRACE, drainPhase, drainSchedule } from './drain.js';
import { formatRfc3339, InvalidDurationError, InvalidTimeError } from './time.js';

// Whole seconds between 2000 and 2100, as drain times are RFC 3339 to the second.
const instant = fc.integer({ min: 946_684_800, max: 4_102_444_800 }).map((s) => s * 1000);
const grace = fc
  .tuple(fc.nat({ max: 48 }), fc.nat({ max: 59 }), fc.nat({ max: 59 }))
  .map(([h, m, s]) => ({ text: `${h}h${m}m${s}s`, ms: ((h * 60 + m) * 60 + s) * 1000 }));

describe('drainSchedule', () => {
  it('ends the drain at drainAt + grace, and the phase flips exactly at drainEndsAt', () => {
    fc.assert(
      fc.property(instant, grace, (drainAtMs, g) => {
        const schedule = drainSchedule({ drainAt: formatRfc3339(drainAtMs), drainGracePeriod: g.text });
        expect(schedule?.drainEndsAtMs).toBe(drainAtMs + g.ms);
        const endsAt = drainAtMs + g.ms;
        expect(drainPhase(endsAt, endsAt - 1)).toBe('draining');
        expect(drainPhase(endsAt, endsAt)).toBe('drained');
        expect(drainPhase(endsAt, endsAt + 1)).toBe('drained');
        expect(schedule?.drainEndsAt).toBe(formatRfc3339(endsAt));
      }),
      { numRuns: 500 },
    );
  });

  it('drains out at drainAt with a 0s grace', () => {
    const schedule = drainSchedule({ drainAt: '2026-06-01T13:00:00Z', drainGracePeriod: '0s' });
    expect(schedule?.drainEndsAt).toBe('2026-06-01T13:00:00Z');
    expect(drainPhase(schedule?.drainEndsAtMs, Date.parse('2026-06-01T12:59:59.999Z'))).toBe('draining');
    expect(drainPhase(schedule?.drainEndsAtMs, Date.parse('2026-06-01T13:00:00Z'))).toBe('drained');
  });

  it('defaults the grace period to 1h', () => {
    expect(DEFAULT_DRAIN_GRACE).toBe('1h');
    expect(drainSchedule({ drainAt: '2026-06-01T13:00:00Z' })?.drainEndsAt).toBe('2026-06-01T14:00:00Z');
  });

  it('normalises offsets and fractions to UTC seconds with a Z', () => {
    const schedule = drainSchedule({ drainAt: '2026-06-01T15:00:00.750+02:00', drainGracePeriod: '30m' });
    expect(schedule).toEqual({ drainAt: '2026-06-01T13:00:00Z', drainEndsAt: '2026-06-01T13:30:00Z', drainEndsAtMs: Date.parse('2026-06-01T13:30:00Z') });
  });

  it('is undefined without drainAt (active)', () => {
    expect(drainSchedule({})).toBeUndefined();
    expect(drainSchedule({ drainGracePeriod: '5m' })).toBeUndefined();
    expect(drainPhase(undefined, Date.now())).toBe('active');
  });

  it('advertises a future drainAt as draining from the moment it is set', () => {
    const schedule = drainSchedule({ drainAt: '2030-01-01T00:00:00Z', drainGracePeriod: '1h' });
    expect(drainPhase(schedule?.drainEndsAtMs, Date.parse('2026-06-01T00:00:00Z'))).toBe('draining');
  });

  it('throws named errors for a bad drainAt or grace', () => {
    expect(() => drainSchedule({ drainAt: 'soon' })).toThrow(InvalidTimeError);
    expect(() => drainSchedule({ drainAt: '2026-06-01T13:00:00Z', drainGracePeriod: '1d' })).toThrow(InvalidDurationError);
  });
});
