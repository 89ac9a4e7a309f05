import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../../core/index.js';
import { fixtureSnapshot, offerManifest } from '../../../test/support/catalog-fixture.js';
import type { CatalogView } from '../catalog/view.js';
import { catalogDocument, schemaDocument, type CatalogDocumentPath } from './documents.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const FIRST_DEADLINE = Date.parse('2026-11-23T10:00:10Z');
const SECOND_DEADLINE = Date.parse('2026-11-23T10:30:00Z');

/** A view honouring the CatalogView contract (memo lives as long as the view). */
function memoView(snapshot: CatalogSnapshot): CatalogView {
  const memos = new Map<string, unknown>();
  return {
    snapshot,
    sequence: snapshot.sequence,
    receivedAt: snapshot.issuedAt,
    routes: new Map(snapshot.offers.map((o) => [o.path, o])),
    memo<T>(key: string, build: () => T): T {
      if (!memos.has(key)) memos.set(key, build());
      return memos.get(key) as T;
    },
  };
}

const snapshot = fixtureSnapshot({
  manifests: [
    offerManifest({ name: 'soon', spec: { drainAt: '2026-11-23T10:00:10Z', drainGracePeriod: '0s' } }),
    offerManifest({ name: 'later', spec: { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } }),
    offerManifest({ name: 'live' }),
  ],
  nowMs: NOW,
});

describe('catalogDocument', () => {
  it('renders each document once per drain epoch however many requests ask', async () => {
    const view = memoView(snapshot);
    const paths: CatalogDocumentPath[] = ['/api/services.json', '/skill.md', '/.well-known/agent-registration.json'];
    for (const path of paths) {
      const served = await Promise.all([0, 1_000, 5_000, 9_999].map((dt) => catalogDocument({ view, path, baseUrl: BASE, nowMs: NOW + dt })));
      // The very same object each time: a render per request would build a new one.
      expect(new Set(served.map((s) => s.document)).size).toBe(1);
    }
    const other = await catalogDocument({ view: memoView(snapshot), path: '/skill.md', baseUrl: BASE, nowMs: NOW });
    expect(other.document).not.toBe((await catalogDocument({ view, path: '/skill.md', baseUrl: BASE, nowMs: NOW })).document);
  });

  it('renders afresh once a drain deadline passes, and reports the next deadline', async () => {
    const view = memoView(snapshot);
    const path = '/api/services.json';
    const before = await catalogDocument({ view, path, baseUrl: BASE, nowMs: NOW });
    expect(before.nextTransitionMs).toBe(FIRST_DEADLINE);
    const after = await catalogDocument({ view, path, baseUrl: BASE, nowMs: FIRST_DEADLINE });
    expect(after.nextTransitionMs).toBe(SECOND_DEADLINE);
    expect(after.document).not.toBe(before.document);
    expect((await catalogDocument({ view, path, baseUrl: BASE, nowMs: FIRST_DEADLINE + 1 })).document).toBe(after.document);
    expect(after.document.etag).not.toBe(before.document.etag);
    expect(JSON.parse(after.document.body).services.map((s: { name: string }) => s.name)).toEqual(['later', 'live']);
    const last = await catalogDocument({ view, path, baseUrl: BASE, nowMs: SECOND_DEADLINE + 1 });
    expect(last.nextTransitionMs).toBeUndefined();
    expect(JSON.parse(last.document.body).services.map((s: { name: string }) => s.name)).toEqual(['live']);
  });

  it('tags each document with the quoted SHA-256 of its exact bytes', async () => {
    const { document } = await catalogDocument({ view: memoView(snapshot), path: '/skill.md', baseUrl: BASE, nowMs: NOW });
    expect(document.etag).toBe(`"${createHash('sha256').update(document.body, 'utf8').digest('hex')}"`);
    expect(document.contentType).toBe('text/markdown; charset=utf-8');
  });

  it('builds each schema document once per isolate', async () => {
    expect(await schemaDocument('/api/services.schema.json')).toBe(await schemaDocument('/api/services.schema.json'));
    const registration = await schemaDocument('/.well-known/agent-registration.schema.json');
    expect(registration).toBe(await schemaDocument('/.well-known/agent-registration.schema.json'));
    expect(JSON.parse(registration.body).title).toBe('Obol Edge ERC-8004 registration file');
  });
});
