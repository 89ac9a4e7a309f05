import { describe, expect, it } from 'vitest';
import { CatalogSnapshot, MAX_SNAPSHOT_BYTES, nextSequence, SNAPSHOT_SCHEMA_VERSION } from './snapshot.js';

const valid = { schemaVersion: SNAPSHOT_SCHEMA_VERSION, sequence: 5, issuedAt: '2026-06-01T12:00:00Z', audience: 'https://edge.test', identity: {}, offers: [] };

describe('CatalogSnapshot', () => {
  it('accepts a minimal snapshot and defaults the identity\'s registrations', () => {
    expect(CatalogSnapshot.parse(valid).identity).toEqual({ registrations: [] });
  });

  it('refuses non-UTC times, non-positive sequences and unknown schema versions', () => {
    expect(CatalogSnapshot.safeParse({ ...valid, issuedAt: '2026-06-01T14:00:00+02:00' }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, sequence: 0 }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, sequence: 1.5 }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, schemaVersion: '3' }).success).toBe(false);
    expect(CatalogSnapshot.safeParse({ ...valid, audience: 'not a url' }).success).toBe(false);
  });

  it('refuses a time that names no real instant (30 February, hour 24), which would throw wherever it is read', () => {
    for (const issuedAt of ['2026-02-30T00:00:00Z', '2026-06-01T24:00:00Z', '2026-13-01T00:00:00Z']) {
      const parsed = CatalogSnapshot.safeParse({ ...valid, issuedAt });
      expect(parsed.success, issuedAt).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe('must be a real calendar time');
    }
  });

  it('writes version 2 and still accepts a version-1 snapshot, whose stale per-offer phase is dropped', () => {
    expect(SNAPSHOT_SCHEMA_VERSION).toBe('2');
    const offer = {
      key: 'a/x', namespace: 'a', name: 'x', path: '/services/x', type: 'http', description: 'd', network: 'base',
      price: { raw: '1', unit: 'perRequest', display: '1 USDC/request' }, upstreamHealthy: true, routeReady: true,
      drainAt: '2026-06-01T11:00:00Z', drainEndsAt: '2026-06-01T13:00:00Z',
    };
    const v1 = CatalogSnapshot.parse({ ...valid, schemaVersion: '1', offers: [{ ...offer, phase: 'active' }] });
    expect(v1.offers).toEqual([offer]);
    expect(CatalogSnapshot.parse({ ...valid, offers: [offer] }).offers).toEqual([offer]);
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
