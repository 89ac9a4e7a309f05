import { describe, expect, it } from 'vitest';
import { carryPlan, planCatalog, rawOfferKey, type OfferObservation, type PlanInput } from './catalog-plan.js';
import { parseServiceOffer } from './offer-rules.js';
import { CatalogSnapshot, SNAPSHOT_SCHEMA_VERSION, SnapshotOffer } from './snapshot.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function input(namespace: string, name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): PlanInput {
  const manifest = {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { namespace, name, creationTimestamp: '2026-01-01T00:00:00Z', annotations: { 'obol.org/upstream-url': 'http://10.0.0.7:11434' }, ...meta },
    spec: { upstream: { service: 'secret-upstream', port: 8080 }, payment: { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' } }, ...spec },
  };
  return { key: `${namespace}/${name}`, parsed: parseServiceOffer(manifest) };
}

const healthy: OfferObservation = { upstreamHealthy: true, routePublished: true };

function plan(offers: PlanInput[], observe: (key: string) => OfferObservation = () => healthy) {
  return planCatalog({ offers, observe, routeManagement: true, source: 'kube', nowMs: NOW });
}

describe('planCatalog', () => {
  it('publishes valid offers in (namespace, name) order with real snapshot entries', () => {
    const result = plan([input('b', 'x'), input('a', 'z'), input('a', 'y')]);
    expect(result.decisions.map((d) => d.key)).toEqual(['a/y', 'a/z', 'b/x']);
    expect(result.offers.map((o) => o.key)).toEqual(['a/y', 'a/z', 'b/x']);
    expect(result.decisions.every((d) => d.verdict.published)).toBe(true);
    for (const entry of result.offers) expect(SnapshotOffer.parse(entry)).toEqual(entry);
    expect(result.offers[0]).toMatchObject({ path: '/services/y', price: { raw: '0.001', unit: 'perRequest', display: '0.001 USDC/request' } });
  });

  it('gives a contested path to the oldest offer and leaves the other out of the snapshot', () => {
    const result = plan([input('a', 'foo', {}, { creationTimestamp: '2026-02-01T00:00:00Z' }), input('b', 'foo', {}, { creationTimestamp: '2026-01-01T00:00:00Z' })]);
    const [a, b] = result.decisions;
    expect(a).toMatchObject({ key: 'a/foo', pathConflictWith: 'b/foo', verdict: { published: false, reason: 'PathConflict' } });
    expect(a?.entry).toBeUndefined();
    expect(b).toMatchObject({ key: 'b/foo', verdict: { published: true } });
    expect(result.offers.map((o) => o.key)).toEqual(['b/foo']);
  });

  it('records an invalid offer with a readable message and no entry', () => {
    const result = plan([input('a', 'bad', { path: '/services/bad/' })]);
    expect(result.decisions[0]).toMatchObject({ key: 'a/bad', invalid: 'spec.path: path must not end with "/"', verdict: { published: false, reason: 'InvalidSpec' } });
    expect(result.offers).toEqual([]);
  });

  it('leaves out an offer whose payTo has a wrong EIP-55 checksum, its problem naming the field', () => {
    const typo = '0x70997970c51812dc3A010C7d01b50e0d17dc79C8';
    const result = plan([input('a', 'typo', { payment: { network: 'base-sepolia', payTo: typo, price: { perRequest: '0.001' } } }), input('a', 'ok')]);
    expect(result.decisions.filter((d) => d.verdict.published).map((d) => d.key)).toEqual(['a/ok']);
    expect(result.offers.map((o) => o.key)).toEqual(['a/ok']);
    expect(result.decisions[1]).toMatchObject({ key: 'a/typo', verdict: { published: false, reason: 'InvalidSpec' } });
    expect(result.decisions[1]?.invalid).toMatch(/^spec\.payment\.payTo: mixed-case address whose EIP-55 checksum does not match/);
  });

  it('keeps an unhealthy offer in the snapshot but unpublished', () => {
    const result = plan([input('a', 'sick')], () => ({ upstreamHealthy: false, routePublished: true }));
    expect(result.decisions[0]?.verdict).toMatchObject({ published: false, reason: 'UpstreamUnhealthy' });
    expect(result.offers[0]).toMatchObject({ key: 'a/sick', upstreamHealthy: false });
  });

  it('keeps a drained offer in the snapshot marked drained', () => {
    const result = plan([input('a', 'old', { drainAt: '2026-06-01T10:00:00Z', drainGracePeriod: '1h' })]);
    expect(result.decisions[0]?.verdict).toMatchObject({ published: false, reason: 'Drained', phase: 'drained' });
    expect(result.offers[0]).toMatchObject({ drainAt: '2026-06-01T10:00:00Z', drainEndsAt: '2026-06-01T11:00:00Z' });
  });

  it('publishes a draining offer with its deadline', () => {
    const result = plan([input('a', 'going', { drainAt: '2026-06-01T11:30:00Z' })]);
    expect(result.decisions[0]?.verdict).toMatchObject({ published: true, phase: 'draining', nextTransitionMs: Date.parse('2026-06-01T12:30:00Z') });
    expect(result.offers[0]).toMatchObject({ drainEndsAt: '2026-06-01T12:30:00Z' });
  });

  it('leaves the requirement out of an entry whose payment does not resolve', () => {
    const result = plan([input('a', 'free', { payment: { network: 'base', payTo: PAY_TO, price: { perRequest: '0.0000001' } } })]);
    expect(result.decisions[0]).toMatchObject({ verdict: { published: false, reason: 'PaymentUnresolved' }, payment: { ok: false, reason: 'FreeByRounding' } });
    expect(result.offers[0]?.requirement).toBeUndefined();
  });

  it('never puts upstream addresses or annotations into the snapshot', () => {
    const result = plan([input('a', 'x')]);
    const text = JSON.stringify(CatalogSnapshot.parse({ schemaVersion: SNAPSHOT_SCHEMA_VERSION, sequence: 1, issuedAt: '2026-06-01T12:00:00Z', audience: 'https://e.test', identity: {}, offers: result.offers }));
    expect(text).not.toContain('secret-upstream');
    expect(text).not.toContain('10.0.0.7');
    expect(text).not.toContain('upstream-url');
  });

  it('carries registration data only when registration is enabled', () => {
    const registration = { enabled: true, name: 'Q', skills: ['chat'], domains: ['ai'], services: [{ name: 'A2A', endpoint: 'https://a2a.example' }] };
    const [on] = plan([input('a', 'on', { registration })]).offers;
    expect(on).toMatchObject({ skills: ['chat'], registration: { name: 'Q', skills: ['chat'], domains: ['ai'], services: [{ name: 'A2A', endpoint: 'https://a2a.example' }] } });
    const [off] = plan([input('a', 'off', { registration: { ...registration, enabled: false } })]).offers;
    expect(off?.registration).toBeUndefined();
    expect(off?.skills).toBeUndefined();
  });

  it('treats the route as ready for a dir source without a published route', () => {
    const result = planCatalog({ offers: [input('a', 'x')], observe: () => ({ upstreamHealthy: true, routePublished: false }), routeManagement: true, source: 'dir', nowMs: NOW });
    expect(result.decisions[0]?.verdict.published).toBe(true);
    const kube = plan([input('a', 'x')], () => ({ upstreamHealthy: true, routePublished: false }));
    expect(kube.decisions[0]?.verdict).toMatchObject({ published: false, reason: 'RouteNotReady' });
  });
});

describe('carryPlan', () => {
  it('leaves out an entry the check refuses, its decision saying why; the other entries and decisions are kept as they were', () => {
    const planned = plan([input('a', 'x'), input('a', 'y')]);
    const carried = carryPlan(planned, (entry) => (entry.key === 'a/x' ? 'drainEndsAt: must be RFC 3339 UTC to the second' : undefined));
    expect(carried.offers.map((o) => o.key)).toEqual(['a/y']);
    expect(carried.decisions[0]).toMatchObject({
      key: 'a/x',
      verdict: { published: false, reason: 'InvalidSpec' },
      uncarried: 'drainEndsAt: must be RFC 3339 UTC to the second',
      invalid: 'the snapshot cannot carry this offer: drainEndsAt: must be RFC 3339 UTC to the second',
    });
    expect(carried.decisions[0]?.entry).toBeUndefined();
    expect(carried.decisions[1]).toBe(planned.decisions[1]);
  });
});

describe('rawOfferKey', () => {
  it('reads the key of a manifest that fails the schema', () => {
    expect(rawOfferKey({ metadata: { name: 'x', namespace: 'n' } }, 'file.yaml')).toBe('n/x');
    expect(rawOfferKey({ metadata: { name: 'x' } }, 'file.yaml')).toBe('default/x');
    expect(rawOfferKey(null, 'file.yaml')).toBe('default/file.yaml');
  });
});
