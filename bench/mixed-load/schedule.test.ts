import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX } from './options.js';
import { countKinds, kindSequence, percentile } from './schedule.js';

describe('kind schedule', () => {
  it('holds exactly the mix in the totals', () => {
    expect(countKinds(kindSequence(DEFAULT_MIX, 3000))).toEqual({ discovery: 1200, unpaid: 900, paid: 300, replay: 300, garbage: 300 });
  });

  it('spreads each kind evenly: every window of 10 requests has one paid request', () => {
    const sequence = kindSequence(DEFAULT_MIX, 1000);
    for (let i = 0; i + 10 <= sequence.length; i += 10) {
      expect(sequence.slice(i, i + 10).filter((k) => k === 'paid')).toHaveLength(1);
    }
  });

  it('never schedules a kind with a zero share', () => {
    const sequence = kindSequence({ discovery: 70, unpaid: 30, paid: 0, replay: 0, garbage: 0 }, 500);
    expect(new Set(sequence)).toEqual(new Set(['discovery', 'unpaid']));
  });
});

describe('percentile', () => {
  it('uses the nearest rank and is 0 without samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});
