import { describe, expect, it } from 'vitest';
import { CatalogSnapshot, type SnapshotOffer } from '../../../core/index.js';
import { makeSnapshot, sampleOffers, snapshotBody } from '../../../test/support/snapshots.js';
import { readSnapshotText } from './snapshot-text.js';

const offers = sampleOffers(6);
const first = snapshotBody(makeSnapshot({ offers, sequence: 1 }));
const textOf = (list: SnapshotOffer[], sequence = 2) => snapshotBody(makeSnapshot({ offers: list, sequence }));

/** What reading `text` gives after the edge has validated `before`. */
function readAfter(before: string, text: string) {
  expect(readSnapshotText(before).ok).toBe(true);
  return readSnapshotText(text);
}

describe('readSnapshotText on a re-push', () => {
  it('gives exactly what parsing and validating the whole text gives, for reordered, changed and new offers', () => {
    const changed = [offers[4], offers[0], { ...offers[2], description: 'changed' }, ...sampleOffers(2, { namespace: 'new' }), offers[5]] as SnapshotOffer[];
    const text = textOf(changed);
    const read = readAfter(first, text);
    expect(read).toEqual({ ok: true, snapshot: CatalogSnapshot.parse(JSON.parse(text)) });
  });

  it('refuses text that is not JSON only between offers it has validated before', () => {
    const text = textOf(offers);
    const missingComma = text.replace('},{"key":"llm/svc-00002"', '}{"key":"llm/svc-00002"');
    const digitBefore = text.replace(',{"key":"llm/svc-00002"', ',5{"key":"llm/svc-00002"');
    const truncated = text.slice(0, text.length - 2);
    for (const broken of [missingComma, digitBefore, truncated]) {
      expect(broken).not.toBe(text);
      expect(readAfter(first, broken)).toMatchObject({ ok: false, reason: 'invalid_json' });
    }
  });

  it('refuses a repeated key in a changed offer, and names text that is not JSON as such first', () => {
    const text = textOf(offers).replace('"description":"', '"description":"x","description":"');
    expect(readAfter(first, text)).toMatchObject({ ok: false, reason: 'duplicate_json_key' });
    expect(readAfter(first, '{"offers":[{"a":1,"a":2}]')).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  it('refuses keys whose escapes do not parse as invalid JSON, with JSON\'s own message', () => {
    for (const text of ['{"\\x":1}', '{"a":1,"b\\q":2}', '{"k\u0001\\n":1}', textOf(offers).replace('"description":', '"descr\\iption":')]) {
      const read = readSnapshotText(text);
      expect(read, text.slice(0, 40)).toMatchObject({ ok: false, reason: 'invalid_json' });
      if (!read.ok && read.reason === 'invalid_json') expect(read.message).toMatch(/JSON/);
    }
  });

  it('names a primitive offer by its place, beside offers validated before', () => {
    const text = textOf(offers).replace(',{"key":"llm/svc-00003"', ',7,{"key":"llm/svc-00003"');
    const read = readAfter(first, text);
    expect(read.ok).toBe(false);
    if (read.ok || read.reason !== 'invalid_snapshot') throw new Error('expected invalid_snapshot');
    expect(read.error.issues.map((issue) => issue.path.join('.'))).toEqual(['offers.3']);
  });
});
