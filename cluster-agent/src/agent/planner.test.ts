import { describe, expect, it } from 'vitest';
import { formatRfc3339, parseServiceOffer, rawOfferKey, type PlanInput, type ServiceOffer } from '../../../core/index.js';
import { memoryLogger, offerManifest } from '../../test/agent/support.js';
import { unreadableManifestFile } from '../publish/manifests.js';
import type { OfferRecord } from '../sources/source.js';
import type { Logger } from './log.js';
import type { HealthObservation } from './reconcile.js';
import { CatalogPlanner } from './planner.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

function record(name: string, spec: Record<string, unknown> = {}, file?: string): OfferRecord {
  const raw = offerManifest(name, 'http://127.0.0.1:9', spec);
  const input: PlanInput = { key: rawOfferKey(raw, name), parsed: parseServiceOffer(raw), ...(file ? { file } : {}) };
  return { key: input.key, input };
}

/** A record whose offer skipped validation (e.g. accepted by an older agent's rules), with `spec` forced in. */
function forcedRecord(name: string, spec: Record<string, unknown>, file?: string): OfferRecord {
  const base = record(name, {}, file);
  if (!base.input.parsed.ok) throw new Error('the base offer must be valid');
  const offer = { ...base.input.parsed.offer, spec: { ...base.input.parsed.offer.spec, ...spec } } as ServiceOffer;
  return { key: base.key, input: { ...base.input, parsed: { ok: true, offer } } };
}

/** The `warn` lines of a memory logger, by message. */
const warnings = (lines: readonly string[]) => lines.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((l) => l.level === 'warn').map((l) => l.msg);

/** A source and a prober under the test's control; counts how often the plan's probe sync ran. */
function fixture(records: OfferRecord[], log?: Logger) {
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
  const planner = new CatalogPlanner({ source, prober, routeManagement: false, routePublished: () => false, ...(log ? { log } : {}) });
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
    expect(replanned.decisions.get('llm/a')?.verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy' });
    expect(f.syncs()).toBe(1);
  });

  it('a drain deadline passing plans again (the offer is drained), and a removed offer leaves the plan', () => {
    const drainAt = formatRfc3339(T0);
    const f = fixture([record('a', { drainAt, drainGracePeriod: '10s' }), record('b')]);
    expect(f.planner.plan(T0).decisions.get('llm/a')?.verdict.phase).toBe('draining');
    expect(f.planner.plan(T0 + 9_000).fresh).toBe(false);
    const drained = f.planner.plan(T0 + 10_000);
    expect(drained).toMatchObject({ fresh: true, changed: ['llm/a'] });
    expect(drained.decisions.get('llm/a')?.verdict.phase).toBe('drained');
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

  it('an offer whose entry the snapshot cannot carry is left out and named, in its status and the log; every other offer is published', () => {
    // drainAt 9999-12-31T23:00:00Z validated before drain times were bounded; its drainEndsAt is in year 10000.
    const { log, lines } = memoryLogger();
    const f = fixture([forcedRecord('a', { drainAt: '9999-12-31T23:00:00Z' }, 'a.yaml'), record('b', {}, 'b.yaml')], log);
    const plan = f.planner.plan(T0);
    expect(plan.offers.map((o) => o.key)).toEqual(['llm/b']);
    expect(plan.decisions.get('llm/b')?.verdict.published).toBe(true);
    const a = plan.decisions.get('llm/a');
    expect(a).toMatchObject({ verdict: { published: false, reason: 'InvalidSpec' }, invalid: 'the snapshot cannot carry this offer: ✖ must be RFC 3339 UTC to the second\n  → at drainEndsAt' });
    expect(a?.entry).toBeUndefined();
    expect(warnings(lines)).toEqual(['snapshot cannot carry llm/a (file a.yaml): ✖ must be RFC 3339 UTC to the second\n  → at drainEndsAt']);
  });

  it('says once, at warn, why an offer is left out or unpriced, naming it and its file; again only when the reason changes', () => {
    const { log, lines } = memoryLogger();
    const free = (perRequest: string) => ({ payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest } } });
    const locked = unreadableManifestFile('locked.yaml', Object.assign(new Error('permission denied'), { code: 'EACCES' }));
    if (!('problem' in locked)) throw new Error('an unreadable file is a problem input');
    const records = [
      record('a', {}, 'a.yaml'),
      record('free', free('0.0000001'), 'free.yaml'),
      record('z', { path: '/services/a' }, 'z.yaml'),
      { key: locked.problem.key, input: locked.problem },
      forcedRecord('far', { drainAt: '9999-12-31T23:00:00Z' }, 'far.yaml'),
    ];
    const f = fixture(records, log);
    f.planner.plan(T0);
    expect(warnings(lines).sort()).toEqual([
      'invalid ServiceOffer default/file:locked.yaml (file locked.yaml): (file): cannot read locked.yaml: EACCES',
      'llm/free (file free.yaml) is not published: price 0.0000001 (perRequest) rounds to 0 atomic units at 6 decimals',
      'llm/z (file z.yaml) is not published: its path /services/a is owned by llm/a, the older offer',
      'snapshot cannot carry llm/far (file far.yaml): ✖ must be RFC 3339 UTC to the second\n  → at drainEndsAt',
    ]);
    const said = lines.length;
    // planned again (health, a resync, an unrelated edit): nothing new to say
    f.planner.invalidate();
    expect(f.planner.plan(T0).fresh).toBe(true);
    f.records[0] = record('a', free('0.5'), 'a.yaml');
    expect(f.planner.plan(T0).fresh).toBe(true);
    expect(warnings(lines.slice(said))).toEqual([]);
    // a new reason is said; a fixed offer falls silent, and says its reason again if it comes back
    f.records[1] = record('free', free('0.00000001'), 'free.yaml');
    f.records[2] = record('z', { path: '/services/z' }, 'z.yaml');
    f.planner.plan(T0);
    expect(warnings(lines.slice(said))).toEqual(['llm/free (file free.yaml) is not published: price 0.00000001 (perRequest) rounds to 0 atomic units at 6 decimals']);
    f.records[2] = record('z', { path: '/services/a' }, 'z.yaml');
    f.planner.plan(T0);
    expect(warnings(lines.slice(said)).slice(1)).toEqual(['llm/z (file z.yaml) is not published: its path /services/a is owned by llm/a, the older offer']);
  });

  it('says why an unpriced offer is left out even while its upstream is down (its own fault, whatever the health)', () => {
    const { log, lines } = memoryLogger();
    const f = fixture([record('free', { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.0000001' } } }, 'free.yaml')], log);
    f.health.set('llm/free', { healthy: false, message: 'refused' });
    expect(f.planner.plan(T0).decisions.get('llm/free')?.verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy', route: { wanted: false, reason: 'PaymentUnresolved' } });
    expect(warnings(lines)).toEqual(['llm/free (file free.yaml) is not published: price 0.0000001 (perRequest) rounds to 0 atomic units at 6 decimals']);
  });

  it('logs nothing without a logger (the option is optional)', () => {
    const f = fixture([record('free', { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.0000001' } } })]);
    expect(f.planner.plan(T0).decisions.get('llm/free')?.verdict).toMatchObject({ published: false, reason: 'PaymentUnresolved' });
  });
});
