import { describe, expect, it } from 'vitest';
import { isPublished, routeReady, type PublicationFacts } from './published.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ok: PublicationFacts = { valid: true, upstreamHealthy: true, paymentResolved: true, routeReady: true };

describe('isPublished', () => {
  it('publishes a valid, healthy, payable, routed, undrained offer', () => {
    expect(isPublished(ok, NOW)).toBe(true);
  });

  it('withholds the offer when any single fact fails', () => {
    for (const fact of ['valid', 'upstreamHealthy', 'paymentResolved', 'routeReady'] as const) {
      expect(isPublished({ ...ok, [fact]: false }, NOW), fact).toBe(false);
    }
  });

  it('keeps a draining offer published until drainEndsAt, then withdraws it', () => {
    expect(isPublished({ ...ok, drainEndsAtMs: NOW + 1 }, NOW)).toBe(true);
    expect(isPublished({ ...ok, drainEndsAtMs: NOW }, NOW)).toBe(false);
  });
});

describe('routeReady', () => {
  it('is ready when the route is published, route management is off, or the source is dir', () => {
    expect(routeReady({ routePublished: true, routeManagement: true, source: 'kube' })).toBe(true);
    expect(routeReady({ routePublished: false, routeManagement: false, source: 'kube' })).toBe(true);
    expect(routeReady({ routePublished: false, routeManagement: true, source: 'dir' })).toBe(true);
    expect(routeReady({ routePublished: false, routeManagement: true, source: 'kube' })).toBe(false);
  });
});
