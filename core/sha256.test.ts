import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256.js';

describe('sha256Hex', () => {
  it('is node:crypto SHA-256 as lower-case 0x-hex, for any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        expect(await sha256Hex(bytes)).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
      }),
    );
  });

  it('hashes a string as its UTF-8 bytes', async () => {
    for (const text of ['', 'abc', 'drain · ends ✓', '\u{1F600}']) {
      expect(await sha256Hex(text)).toBe(`0x${createHash('sha256').update(text, 'utf8').digest('hex')}`);
    }
    expect(await sha256Hex('')).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
