import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Base64JsonError, decodeBase64Json, encodeBase64Json } from './base64-json.js';

const base64Of = (bytes: number[]) => Buffer.from(bytes).toString('base64');

describe('x402 header encoding (base64 of UTF-8 JSON)', () => {
  it('encodes exactly as Node\'s own base64 of the UTF-8 bytes, ASCII or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(encodeBase64Json(value)).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
      }),
      { numRuns: 300 },
    );
    const large = { description: 'é'.repeat(70_000) };
    expect(encodeBase64Json(large)).toBe(Buffer.from(JSON.stringify(large), 'utf8').toString('base64'));
  });

  it('decodes what it encodes, including non-ASCII text', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(decodeBase64Json(encodeBase64Json(value))).toEqual(JSON.parse(JSON.stringify(value)));
    }), { numRuns: 300 });
    expect(decodeBase64Json(encodeBase64Json({ description: 'café ☕ 東京' }))).toEqual({ description: 'café ☕ 東京' });
  });

  it('drops a leading UTF-8 byte order mark', () => {
    expect(decodeBase64Json(base64Of([0xef, 0xbb, 0xbf, ...Buffer.from('{"a":1}')]))).toEqual({ a: 1 });
  });

  it.each([
    ['empty text', '', 'not_base64'],
    ['URL-safe alphabet', Buffer.from('{"a":"~~~"}').toString('base64url'), 'not_base64'],
    ['missing padding', 'eyJhIjoxfQ', 'not_base64'],
    ['whitespace', 'eyJh IjoxfQ==', 'not_base64'],
    ['invalid UTF-8', base64Of([0x7b, 0xff, 0x7d]), 'not_utf8'],
    ['a lone continuation byte', base64Of([0x22, 0x80, 0x22]), 'not_utf8'],
    ['text that is not JSON', Buffer.from('hello').toString('base64'), 'not_json'],
  ])('refuses %s with reason %s', (_name, text, reason) => {
    let caught: unknown;
    try {
      decodeBase64Json(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Base64JsonError);
    expect((caught as Base64JsonError).reason).toBe(reason);
  });
});
