import { describe, expect, it } from 'vitest';
import { CatalogSnapshot, MAX_SNAPSHOT_OFFERS, parseServiceOffer, planCatalog, rawOfferKey, type SnapshotOffer } from '../../../core/index.js';
import { offerManifest } from '../../test/agent/support.js';
import { SnapshotBuildError, buildCatalogSnapshot, buildSnapshot, encodeSnapshot } from './snapshot.js';

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

  it('one entry the schema refuses (a drain ending in year 10000) is left out; every other offer still goes out', () => {
    const [first, second, third] = plannedOffers(3);
    if (!first || !second || !third) throw new Error('no planned offers');
    const bad = { ...second, drainAt: '9999-12-31T23:00:00Z', drainEndsAt: '+010000-01-01T00:00:00Z', phase: 'draining' } as SnapshotOffer;
    const snapshot = buildSnapshot({ ...envelope, offers: [first, bad, third] });
    expect(snapshot.offers.map((o) => o.key)).toEqual(['llm/offer-0', 'llm/offer-2']);
    expect(CatalogSnapshot.parse(JSON.parse(new TextDecoder().decode(encodeSnapshot(snapshot)))).offers).toHaveLength(2);
  });

  it('reports each left-out entry by key with the reason, field by field', () => {
    const [first] = plannedOffers(1);
    if (!first) throw new Error('no planned offer');
    const bad = { ...first, key: 'llm/bad', price: { ...first.price, unit: 'perYear' }, drainEndsAt: '+010000-01-01T00:00:00Z' } as unknown as SnapshotOffer;
    const built = buildCatalogSnapshot({ ...envelope, offers: [first, bad] });
    expect(built.snapshot.offers).toEqual([first]);
    expect(built.excluded).toEqual([
      { key: 'llm/bad', reason: '✖ must be RFC 3339 UTC to the second\n  → at drainEndsAt\n✖ Invalid option: expected one of "perRequest"|"perMTok"|"perHour"\n  → at price.unit' },
    ]);
    // checked again on the next build (a refusal is not cached), and still left out
    expect(buildCatalogSnapshot({ ...envelope, offers: [bad] }).excluded).toHaveLength(1);
  });

  it('still refuses a bad envelope and more offers than the edge accepts', () => {
    const [first] = plannedOffers(1);
    if (!first) throw new Error('no planned offer');
    expect(() => buildSnapshot({ ...envelope, audience: 'not a url', offers: [first] })).toThrow(SnapshotBuildError);
    const tooMany = Array.from({ length: MAX_SNAPSHOT_OFFERS + 1 }, () => first);
    expect(() => buildSnapshot({ ...envelope, offers: tooMany })).toThrow(/^snapshot is not valid:\n✖ Too big: .*\n {2}→ at offers$/);
  });
});
