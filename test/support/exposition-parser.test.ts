import { describe, expect, it } from 'vitest';
import { ExpositionParseError, parseExposition } from './exposition-parser.js';

describe('parseExposition rejects malformed text', () => {
  const cases: [string, string][] = [
    ['sample before TYPE', 'x_total 1\n'],
    ['missing final newline', '# TYPE x counter\nx 1'],
    ['unquoted label value', '# TYPE x counter\nx{a=b} 1\n'],
    ['bad escape', '# TYPE x counter\nx{a="\\t"} 1\n'],
    ['non-numeric value', '# TYPE x counter\nx 1,5\n'],
    ['bad metric name', '# TYPE 1x counter\n'],
    ['duplicate label', '# TYPE x counter\nx{a="1",a="2"} 1\n'],
    ['unknown type', '# TYPE x thing\n'],
  ];
  for (const [name, text] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => parseExposition(text)).toThrow(ExpositionParseError);
    });
  }
});
