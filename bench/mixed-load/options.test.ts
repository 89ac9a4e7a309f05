import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, LoadOptionsError, parseLoadOptions } from './options.js';

const OUT = '/tmp/out.json';

function refusal(argv: string[]): LoadOptionsError {
  try {
    parseLoadOptions(argv, OUT);
  } catch (error) {
    if (error instanceof LoadOptionsError) return error;
    throw error;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('bench:load flags', () => {
  it('defaults to 200 req/s for 15 s with 10 % paid (20 paid/s, under the settle budget)', () => {
    const options = parseLoadOptions([], OUT);
    expect(options).toMatchObject({ rate: 200, durationSec: 15, payers: 16, maxPaidPerSec: 25, mix: DEFAULT_MIX, out: OUT });
  });

  it('takes --rate, --duration and a full --mix', () => {
    const options = parseLoadOptions(['--rate', '50', '--duration', '2.5', '--mix', 'discovery=50,unpaid=50'], OUT);
    expect(options.rate).toBe(50);
    expect(options.durationSec).toBe(2.5);
    expect(options.mix).toEqual({ discovery: 50, unpaid: 50, paid: 0, replay: 0, garbage: 0 });
  });

  it('refuses a paid rate the one-at-a-time facilitator cannot settle, naming the limit', () => {
    const error = refusal(['--rate', '1000']);
    expect(error.reason).toBe('invalid_load_options');
    expect(error.message).toContain('100 paid req/s exceeds --max-paid-per-sec 25');
  });

  it.each([
    [['--rate', 'fast'], '--rate must be a positive number'],
    [['--rate', '0'], '→ at rate'],
    [['--duration', '600'], '→ at durationSec'],
    [['--mix', 'paid=60,unpaid=30'], 'add up to 100'],
    [['--mix', 'bogus=100'], 'not kind=percent'],
    [['--mix', 'unpaid=90,replay=10'], 'replay > 0 needs paid > 0'],
    [['--unknown'], 'Unknown option'],
    [['stray'], 'positional'],
  ])('refuses %j with a clear error', (argv, fragment) => {
    expect(refusal(argv).message).toContain(fragment);
  });
});
