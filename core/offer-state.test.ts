import { describe, expect, it } from 'vitest';
import { planCatalog } from './catalog-plan.js';
import { parseServiceOffer } from './offer-rules.js';
import { offerStateAt, snapshotVerdict } from './offer-state.js';
import type { SnapshotOffer } from './snapshot.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function entry(spec: Record<string, unknown> = {}, upstreamHealthy = true): SnapshotOffer {
  const parsed = parseServiceOffer({
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: 'x', namespace: 'a' },
    spec: { upstream: { service: 's' }, payment: { network: 'base', payTo: `0x${'2'.repeat(40)}`, price: { perRequest: '1' } }, ...spec },
  });
  const plan = planCatalog({ offers: [{ key: 'a/x', parsed }], observe: () => ({ upstreamHealthy, routePublished: true }), routeManagement: false, source: 'kube', nowMs: NOW });
  const offer = plan.offers[0];
  if (!offer) throw new Error('no entry');
  return offer;
}

describe('offerStateAt', () => {
  it('is active without a drain', () => {
    expect(offerStateAt(entry(), NOW)).toBe('active');
  });

  it('drains out by the caller\'s clock, with no new snapshot', () => {
    const draining = entry({ drainAt: '2026-06-01T12:00:00Z', drainGracePeriod: '30m' });
    const endsAt = Date.parse('2026-06-01T12:30:00Z');
    expect(draining.drainEndsAt).toBe('2026-06-01T12:30:00Z');
    expect(offerStateAt(draining, endsAt - 1)).toBe('draining');
    expect(offerStateAt(draining, endsAt)).toBe('drained');
  });

  it('is unavailable when in the snapshot but not published (unhealthy or unpayable)', () => {
    expect(offerStateAt(entry({}, false), NOW)).toBe('unavailable');
    expect(offerStateAt(entry({ payment: { network: 'eip155:10', payTo: `0x${'2'.repeat(40)}`, price: { perRequest: '1' } } }), NOW)).toBe('unavailable');
    expect(offerStateAt({ ...entry(), routeReady: false }, NOW)).toBe('unavailable');
  });

  it('answers drained (410) for a drained offer even when it is unhealthy', () => {
    const gone = entry({ drainAt: '2026-06-01T10:00:00Z', drainGracePeriod: '0s' }, false);
    expect(offerStateAt(gone, NOW)).toBe('drained');
  });
});

describe('snapshotVerdict', () => {
  it('judges an entry from what it carries, its drain by the caller\'s clock', () => {
    const draining = entry({ drainAt: '2026-06-01T12:00:00Z', drainGracePeriod: '10m' });
    const endsAt = Date.parse('2026-06-01T12:10:00Z');
    expect(snapshotVerdict(draining, NOW)).toEqual({ published: true, phase: 'draining', route: { wanted: true }, nextTransitionMs: endsAt });
    expect(snapshotVerdict(draining, endsAt)).toMatchObject({ published: false, reason: 'Drained', nextTransitionMs: undefined });
    expect(snapshotVerdict(entry({}, false), NOW)).toMatchObject({ published: false, reason: 'UpstreamUnhealthy' });
  });

  it('throws a named error for a drainEndsAt that is not a calendar time', () => {
    expect(() => snapshotVerdict({ ...entry(), drainEndsAt: '2026-02-30T00:00:00Z' }, NOW)).toThrow(expect.objectContaining({ reason: 'invalid_time' }));
  });
});
