import { describe, expect, it } from 'vitest';
import { clockTransitions, InvalidInstantError, publicationVerdict, routeReady, type PublicationFacts } from './published.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ok: PublicationFacts = { upstreamHealthy: true, paymentResolved: true, routeReady: true };
const drainedAt = { drainEndsAtMs: NOW - 1 };

describe('publicationVerdict', () => {
  it('publishes a valid, healthy, payable, routed, undrained offer and wants its route', () => {
    expect(publicationVerdict(ok, NOW)).toEqual({ published: true, phase: 'active', route: { wanted: true }, nextTransitionMs: undefined });
  });

  it('names each SPEC §2 rule when it alone fails', () => {
    const reasonWhen = (facts: Partial<PublicationFacts>) => {
      const verdict = publicationVerdict({ ...ok, ...facts }, NOW);
      return verdict.published ? 'published' : verdict.reason;
    };
    expect(reasonWhen({ invalid: 'InvalidSpec' })).toBe('InvalidSpec');
    expect(reasonWhen({ invalid: 'PathConflict' })).toBe('PathConflict');
    expect(reasonWhen({ upstreamHealthy: false })).toBe('UpstreamUnhealthy');
    expect(reasonWhen({ paymentResolved: false })).toBe('PaymentUnresolved');
    expect(reasonWhen({ routeReady: false })).toBe('RouteNotReady');
    expect(reasonWhen(drainedAt)).toBe('Drained');
  });

  it('gives the first failing rule in SPEC order: valid, healthy, payable, routed, not drained', () => {
    const allFail: PublicationFacts = { invalid: 'InvalidSpec', upstreamHealthy: false, paymentResolved: false, routeReady: false };
    // Fix one rule at a time, front to back: the reason moves on to the next rule that still fails.
    const fixes: Partial<PublicationFacts>[] = [{}, { invalid: undefined }, { upstreamHealthy: true }, { paymentResolved: true }, { routeReady: true }];
    let facts = allFail;
    const reasons = fixes.map((fix) => {
      facts = { ...facts, ...fix };
      const verdict = publicationVerdict(facts, NOW);
      return verdict.published ? 'published' : verdict.reason;
    });
    expect(reasons).toEqual(['InvalidSpec', 'UpstreamUnhealthy', 'PaymentUnresolved', 'RouteNotReady', 'published']);
    expect(publicationVerdict({ ...allFail, invalid: 'PathConflict', ...drainedAt }, NOW)).toMatchObject({ reason: 'PathConflict' });
  });

  it('reports an unhealthy drained offer as unhealthy, its phase still drained', () => {
    const verdict = publicationVerdict({ ...ok, upstreamHealthy: false, ...drainedAt }, NOW);
    expect(verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy', phase: 'drained', route: { wanted: false, reason: 'Drained' } });
  });

  it('blames the drain, not the route, when a drained offer\'s route was taken down on purpose', () => {
    expect(publicationVerdict({ ...ok, routeReady: false, ...drainedAt }, NOW)).toMatchObject({ published: false, reason: 'Drained' });
  });

  it('wants the route while the offer drains and while its upstream is unhealthy', () => {
    expect(publicationVerdict({ ...ok, drainEndsAtMs: NOW + 60_000 }, NOW)).toMatchObject({ published: true, phase: 'draining', route: { wanted: true } });
    expect(publicationVerdict({ ...ok, upstreamHealthy: false }, NOW).route).toEqual({ wanted: true });
    expect(publicationVerdict({ ...ok, routeReady: false }, NOW).route).toEqual({ wanted: true });
  });

  it('takes the route down for the offer\'s own faults and the drain\'s end, saying which comes first', () => {
    expect(publicationVerdict({ ...ok, invalid: 'PathConflict', paymentResolved: false }, NOW).route).toEqual({ wanted: false, reason: 'PathConflict' });
    expect(publicationVerdict({ ...ok, upstreamHealthy: false, paymentResolved: false, ...drainedAt }, NOW).route).toEqual({ wanted: false, reason: 'PaymentUnresolved' });
    expect(publicationVerdict({ ...ok, ...drainedAt }, NOW).route).toEqual({ wanted: false, reason: 'Drained' });
  });

  it('keeps a draining offer published until drainEndsAt, then withdraws it', () => {
    expect(publicationVerdict({ ...ok, drainEndsAtMs: NOW + 1 }, NOW).published).toBe(true);
    expect(publicationVerdict({ ...ok, drainEndsAtMs: NOW }, NOW)).toMatchObject({ published: false, reason: 'Drained', phase: 'drained' });
  });

  it('says the next transition is the drain\'s end while the offer drains, and none before a drain or after it', () => {
    const endsAt = NOW + 30 * 60_000;
    expect(publicationVerdict({ ...ok, drainEndsAtMs: endsAt }, NOW).nextTransitionMs).toBe(endsAt);
    expect(publicationVerdict({ ...ok, drainEndsAtMs: endsAt }, endsAt - 1).nextTransitionMs).toBe(endsAt);
    expect(publicationVerdict({ ...ok, drainEndsAtMs: endsAt }, endsAt).nextTransitionMs).toBeUndefined();
    expect(publicationVerdict(ok, NOW).nextTransitionMs).toBeUndefined();
  });

  it('still says when an unpublished offer\'s drain ends: its phase changes then', () => {
    const verdict = publicationVerdict({ ...ok, invalid: 'PathConflict', drainEndsAtMs: NOW + 5_000 }, NOW);
    expect(verdict).toMatchObject({ published: false, reason: 'PathConflict', phase: 'draining', nextTransitionMs: NOW + 5_000 });
  });

  it('refuses a non-finite clock or drain end with a named error, never a silent verdict', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => publicationVerdict(ok, bad)).toThrow(InvalidInstantError);
      expect(() => publicationVerdict({ ...ok, drainEndsAtMs: bad }, NOW)).toThrow(InvalidInstantError);
    }
    const thrown = (() => {
      try {
        return publicationVerdict(ok, Number.NaN);
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ reason: 'invalid_instant', field: 'nowMs' });
  });
});

describe('clockTransitions', () => {
  it('is the drain\'s end alone: a drain starts the moment drainAt is set, not at drainAt', () => {
    expect(clockTransitions({ drainEndsAtMs: NOW })).toEqual([NOW]);
    expect(clockTransitions({})).toEqual([]);
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
