import { describe, expect, it } from 'vitest';
import { formatRfc3339, parseServiceOffer, rawOfferKey, type PlanInput, type ServiceOffer } from '../../../core/index.js';
import { offerManifest } from '../../test/agent/support.js';
import type { OfferRecord } from '../sources/source.js';
import type { HealthObservation } from './reconcile.js';
import { CatalogPlanner } from './planner.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

function record(name: string, spec: Record<string, unknown> = {}): OfferRecord {
  const raw = offerManifest(name, 'http://127.0.0.1:9', spec);
  const input: PlanInput = { key: rawOfferKey(raw, name), parsed: parseServiceOffer(raw) };
  return { key: input.key, input };
}

/** A source and a prober under the test's control; counts how often the plan's probe sync ran. */
function fixture(records: OfferRecord[]) {
  const health = new Map<string, HealthObservation>();
  let syncs = 0;
  const source = { kind: 'dir' as const, records: () => records };
  const prober = {
    sync: (offers: ReadonlyArray<{ key: string; offer: ServiceOffer }>) => {
      syncs++;
      for (const { key } of offers) if (!health.has(key)) health.set(key, { healthy: true, message: 'GET answered 200' });
    },
    get: (key: string) => health.get(key),
  };
  const planner = new CatalogPlanner({ source, prober, routeManagement: false, routePublished: () => false });
  return { planner, health, syncs: () => syncs, records };
}

describe('CatalogPlanner', () => {
  it('plans once and reuses the plan while no input changed', () => {
    const f = fixture([record('a'), record('b')]);
    const first = f.planner.plan(T0);
    expect(first).toMatchObject({ fresh: true, unprobed: false });
    expect([...first.changed].sort()).toEqual(['llm/a', 'llm/b']);
    const again = f.planner.plan(T0 + 1_000);
    expect(again.fresh).toBe(false);
    expect(again.decisions).toBe(first.decisions);
    expect(again.offers).toBe(first.offers);
  });

  it('a changed offer is planned again; the others keep their decision and entry objects', () => {
    const f = fixture([record('a'), record('b')]);
    const first = f.planner.plan(T0);
    f.records[1] = record('b', { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.002' } } });
    const second = f.planner.plan(T0);
    expect(second).toMatchObject({ fresh: true, changed: ['llm/b'] });
    expect(second.decisions.get('llm/a')).toBe(first.decisions.get('llm/a'));
    expect(second.offers[0]).toBe(first.offers[0]);
    expect(second.offers[1]?.price.raw).toBe('0.002');
    expect(f.syncs()).toBe(2);
  });

  it('invalidate() plans again with the new health, without re-syncing the probes', () => {
    const f = fixture([record('a'), record('b')]);
    f.planner.plan(T0);
    f.health.set('llm/a', { healthy: false, message: 'refused' });
    expect(f.planner.plan(T0).fresh).toBe(false);
    f.planner.invalidate();
    const replanned = f.planner.plan(T0);
    expect(replanned).toMatchObject({ fresh: true, changed: ['llm/a'] });
    expect(replanned.decisions.get('llm/a')?.published).toBe(false);
    expect(f.syncs()).toBe(1);
  });

  it('a drain deadline passing plans again (the offer is drained), and a removed offer leaves the plan', () => {
    const drainAt = formatRfc3339(T0);
    const f = fixture([record('a', { drainAt, drainGracePeriod: '10s' }), record('b')]);
    expect(f.planner.plan(T0).decisions.get('llm/a')?.phase).toBe('draining');
    expect(f.planner.plan(T0 + 9_000).fresh).toBe(false);
    const drained = f.planner.plan(T0 + 10_000);
    expect(drained).toMatchObject({ fresh: true, changed: ['llm/a'] });
    expect(drained.decisions.get('llm/a')?.phase).toBe('drained');
    f.records.splice(1, 1);
    const removed = f.planner.plan(T0 + 11_000);
    expect(removed.fresh).toBe(true);
    expect([...removed.decisions.keys()]).toEqual(['llm/a']);
  });

  it('reports unprobed offers until their first probe result is in', () => {
    const records = [record('a')];
    const health = new Map<string, HealthObservation>();
    const planner = new CatalogPlanner({ source: { kind: 'dir', records: () => records }, prober: { sync: () => undefined, get: (key) => health.get(key) }, routeManagement: false, routePublished: () => false });
    expect(planner.plan(T0).unprobed).toBe(true);
    health.set('llm/a', { healthy: true, message: 'ok' });
    planner.invalidate();
    expect(planner.plan(T0).unprobed).toBe(false);
  });
});
