import { describe, expect, it } from 'vitest';
import { CatalogSnapshot, MAX_SNAPSHOT_BYTES, nextSequence } from './snapshot.js';

const valid = { schemaVersion: '1', sequence: 5, issuedAt: '2026-06-01T12:00:00Z', audience: 'https://edge.test', identity: {}, offers: [] };

describe('CatalogSnapshot', () => {
  it('accepts a minimal snapshot and defaults the identity\'s registrations', () => {
    expect(CatalogSnapshot.parse(valid).identity).toEqual({ registrations: [] });
  });

  it('refuses non-UTC times, non-positive sequences and unknown schema versions', () => {
    expect(CatalogSnapshot.safeParse({ ...valid, issuedAt: '2026-06-01T14:00:00+02:00' }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, sequence: 0 }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, sequence: 1.5 }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, schemaVersion: '2' }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, audience: 'not a url' }).success).toBe(false);
  });

  it('documents a limit of at least 16 MiB', () => {
    expect(MAX_SNAPSHOT_BYTES).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });
});

describe('nextSequence', () => {
  it('is max(edge sequence + 1, now in ms)', () => {
    expect(nextSequence({ edgeSequence: undefined, nowMs: 1_000 })).toBe(1_000);
    expect(nextSequence({ edgeSequence: 0, nowMs: 1_000 })).toBe(1_000);
    expect(nextSequence({ edgeSequence: 5_000, nowMs: 1_000 })).toBe(5_001);
  });
});
