import { describe, expect, it } from 'vitest';
import { CatalogSnapshot, MAX_SNAPSHOT_OFFERS, parseServiceOffer, planCatalog, rawOfferKey, type SnapshotOffer } from '../../../core/index.js';
import { offerManifest } from '../../test/agent/support.js';
import { SnapshotBuildError, buildSnapshot, encodeSnapshot } from './snapshot.js';

function plannedOffers(count: number): readonly SnapshotOffer[] {
  const raws = Array.from({ length: count }, (_, i) =>
    offerManifest(`offer-${i}`, 'http://127.0.0.1:9', { registration: { enabled: true, description: `offer ${i}`, skills: ['chat'] } }),
  );
  const plan = planCatalog({
    offers: raws.map((raw) => ({ key: rawOfferKey(raw, 'x'), parsed: parseServiceOffer(raw) })),
    observe: () => ({ upstreamHealthy: true, routePublished: false }),
    routeManagement: false,
    source: 'dir',
    nowMs: Date.UTC(2026, 10, 23),
  });
  return plan.offers;
}

const envelope = { identity: { registrations: [] }, audience: 'https://edge.test', sequence: 9, issuedAtMs: Date.UTC(2026, 10, 23, 10) };

describe('buildSnapshot', () => {
  it('encodes exactly the bytes of the snapshot parsed whole by core CatalogSnapshot, built again or not', () => {
    const offers = plannedOffers(3);
    for (let round = 0; round < 2; round++) {
      const snapshot = buildSnapshot({ ...envelope, offers });
      const whole = CatalogSnapshot.parse({ ...snapshot, offers: structuredClone(offers) });
      expect(new TextDecoder().decode(encodeSnapshot(snapshot))).toBe(JSON.stringify(whole));
    }
  });

  it('refuses an invalid entry with its path, and more offers than the edge accepts', () => {
    const [first] = plannedOffers(1);
    if (!first) throw new Error('no planned offer');
    const bad = { ...first, price: { ...first.price, unit: 'perYear' } } as unknown as SnapshotOffer;
    expect(() => buildSnapshot({ ...envelope, offers: [first, bad] })).toThrow(/offers\.1\.price\.unit/);
    expect(() => buildSnapshot({ ...envelope, offers: [first, bad] })).toThrow(SnapshotBuildError);
    const tooMany = Array.from({ length: MAX_SNAPSHOT_OFFERS + 1 }, () => first);
    expect(() => buildSnapshot({ ...envelope, offers: tooMany })).toThrow(/^snapshot is not valid: offers: /);
  });
});
