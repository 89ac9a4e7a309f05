import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../test/support/exposition-parser.js';
import { escapeLabelValue, renderExposition } from './exposition.js';
import { METRICS, type SeriesSample } from './series.js';

const labels = { offer_namespace: 'shop', offer_name: 'llm', chain: 'eip155:84532', asset_symbol: 'USDC' };

describe('renderExposition', () => {
  it('writes HELP and TYPE for every SPEC §8 metric even with no series', () => {
    const families = parseExposition(renderExposition([]));
    expect([...families.keys()]).toEqual(METRICS.map((m) => m.name));
    for (const m of METRICS) {
      expect(families.get(m.name)?.type).toBe(m.kind);
      expect(families.get(m.name)?.help).toBe(m.help);
      expect(families.get(m.name)?.samples).toEqual([]);
    }
  });

  it('round-trips label values with quotes, backslashes and newlines through the strict parser', () => {
    const odd = { ...labels, offer_name: 'a"b\\c\nd' };
    const samples: SeriesSample[] = [
      { metric: 'obol_x402_verifier_requests_total', labels: odd, reason: '', value: 12 },
      { metric: 'obol_x402_verifier_payment_failure_reasons_total', labels, reason: 'invalid_exact_evm_payload_signature', value: 3 },
      { metric: 'obol_x402_verifier_last_payment_success_seconds', labels, reason: '', value: 1795000000 },
    ];
    const text = renderExposition(samples);
    expect(text).toContain('offer_name="a\\"b\\\\c\\nd"');
    const families = parseExposition(text);
    expect(families.get('obol_x402_verifier_requests_total')?.samples).toEqual([{ labels: odd, value: 12 }]);
    expect(families.get('obol_x402_verifier_payment_failure_reasons_total')?.samples).toEqual([
      { labels: { ...labels, reason: 'invalid_exact_evm_payload_signature' }, value: 3 },
    ]);
    expect(families.get('obol_x402_verifier_last_payment_success_seconds')?.samples[0]?.value).toBe(1795000000);
  });

  it('orders samples deterministically regardless of input order', () => {
    const a: SeriesSample = { metric: 'obol_x402_verifier_requests_total', labels: { ...labels, offer_name: 'a' }, reason: '', value: 1 };
    const b: SeriesSample = { ...a, labels: { ...labels, offer_name: 'b' }, value: 2 };
    expect(renderExposition([b, a])).toBe(renderExposition([a, b]));
  });

  it('escapes exactly backslash, double quote and newline', () => {
    expect(escapeLabelValue('plain-value_1:2')).toBe('plain-value_1:2');
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
  });
});
