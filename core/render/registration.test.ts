import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, offerManifest } from '../../test/support/catalog-fixture.js';
import { REGISTRATION_TYPE, RegistrationDocument, renderRegistrationDocument, serializeRegistrationDocument } from './registration.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const REGISTRY = { agentId: 7, agentRegistry: 'eip155:84532:0x8004a6090cd10a7288092483047b097295fb8847' };
const draining = { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } as const;

type Manifests = Parameters<typeof fixtureSnapshot>[0]['manifests'];
function render(manifests: Manifests, identity: Parameters<typeof fixtureSnapshot>[0]['identity'] = {}, nowMs = NOW) {
  return renderRegistrationDocument({ snapshot: fixtureSnapshot({ manifests, nowMs: NOW, identity }), baseUrl: BASE, nowMs });
}

/** The catalog documents every live file lists first (a probe of them gets 200, not a 402). */
const DOCUMENT_ENTRIES = [
  { name: 'web', endpoint: 'https://edge.example.com/' },
  { name: 'catalog', endpoint: 'https://edge.example.com/api/services.json', version: '1' },
  { name: 'skill', endpoint: 'https://edge.example.com/skill.md' },
  { name: 'OpenAPI', endpoint: 'https://edge.example.com/openapi.json' },
];
const OASF_ENDPOINT = 'https://edge.example.com/.well-known/agent-registration.json';

const registered = (name: string, extra: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  offerManifest({ name, spec: { registration: { enabled: true, ...extra }, ...spec } });

describe('agent-registration.json', () => {
  it('takes name, description, image, registrations and supportedTrust from the identity', () => {
    const doc = render([registered('svc', { name: 'Offer name' })], { name: 'Agent', description: 'Sells inference', image: 'https://img.test/a.png', registrations: [REGISTRY], supportedTrust: ['reputation'] });
    expect(doc).toMatchObject({ type: REGISTRATION_TYPE, name: 'Agent', description: 'Sells inference', image: 'https://img.test/a.png', registrations: [REGISTRY], supportedTrust: ['reputation'], active: true, x402Support: true });
    expect(Object.keys(doc)).toEqual(['type', 'name', 'description', 'image', 'services', 'x402Support', 'active', 'registrations', 'supportedTrust']);
  });

  it('falls back to the first registration-enabled published offer in namespace-then-name order', () => {
    const doc = render([
      offerManifest({ name: 'aaa' }),
      registered('zzz', { name: 'Later', description: 'later one', image: 'https://img.test/z.png' }),
      registered('mmm', { name: 'First', description: 'first one', image: 'https://img.test/m.png' }),
    ]);
    expect(doc).toMatchObject({ name: 'First', description: 'first one', image: 'https://img.test/m.png' });
  });

  it('omits supportedTrust when the identity has none', () => {
    const raw = serializeRegistrationDocument(render([registered('svc')]));
    expect(raw).not.toContain('supportedTrust');
  });

  it('lists a web entry, an OASF entry and custom entries per registered offer, and skips unregistered offers', () => {
    const doc = render([
      registered('svc', { skills: ['nlp/chat'], domains: ['tech'], services: [{ name: 'A2A', endpoint: 'https://a2a.test/card.json', version: '0.3' }] }),
      offerManifest({ name: 'private' }),
    ]);
    expect(doc.services).toEqual([
      ...DOCUMENT_ENTRIES,
      { name: 'web', endpoint: 'https://edge.example.com/services/svc' },
      { name: 'OASF', endpoint: OASF_ENDPOINT, version: '0.8', skills: ['nlp/chat'], domains: ['tech'] },
      { name: 'A2A', endpoint: 'https://a2a.test/card.json', version: '0.3' },
    ]);
  });

  it('writes no OASF entry without skills or domains', () => {
    expect(render([registered('svc')]).services).toEqual([...DOCUMENT_ENTRIES, { name: 'web', endpoint: 'https://edge.example.com/services/svc' }]);
  });

  it('lists the catalog documents once, before every registered offer entry in namespace-then-name order', () => {
    const doc = render([registered('b'), registered('a', { skills: ['s'] }), offerManifest({ name: 'private' })]);
    expect(doc.services.map((s) => `${s.name} ${s.endpoint}`)).toEqual([
      ...DOCUMENT_ENTRIES.map((s) => `${s.name} ${s.endpoint}`),
      'web https://edge.example.com/services/a',
      `OASF ${OASF_ENDPOINT}`,
      'web https://edge.example.com/services/b',
    ]);
  });

  it('gives every entry a name and an endpoint, and the whole file fits its JSON Schema', () => {
    const doc = render(
      [registered('svc', { skills: ['s'], domains: ['d'], services: [{ name: 'ENS', endpoint: 'seller.eth', version: 'v1', tags: ['x'] }] }, draining)],
      { name: 'Agent', registrations: [REGISTRY], supportedTrust: ['reputation'] },
    );
    for (const entry of doc.services) expect(entry, JSON.stringify(entry)).toMatchObject({ name: expect.any(String), endpoint: expect.any(String) });
    expect(RegistrationDocument.safeParse(JSON.parse(serializeRegistrationDocument(doc))).success).toBe(true);
    expect(RegistrationDocument.safeParse({ ...doc, services: [{ name: 'web' }] }).success).toBe(false);
  });

  it('makes a seller endpoint written as a path absolute on this edge, and leaves other endpoints as written', () => {
    const doc = render([registered('svc', { services: [
      { name: 'chat', endpoint: '/services/svc/v1/chat/completions' },
      { name: 'elsewhere', endpoint: '//cdn.test/x' },
      { name: 'DID', endpoint: 'did:web:seller.test' },
    ] })]);
    expect(doc.services.slice(-3).map((s) => s.endpoint)).toEqual(['https://edge.example.com/services/svc/v1/chat/completions', '//cdn.test/x', 'did:web:seller.test']);
  });

  it('marks web and custom entries of a draining offer unavailable with the deadline; OASF carries neither key', () => {
    const doc = render([registered('svc', { skills: ['s'], services: [{ name: 'MCP', endpoint: 'https://mcp.test' }] }, draining)]);
    const drain = { available: false, drainEndsAt: '2026-11-23T10:30:00Z' };
    expect(doc.services).toEqual([
      ...DOCUMENT_ENTRIES,
      { name: 'web', endpoint: 'https://edge.example.com/services/svc', ...drain },
      { name: 'OASF', endpoint: OASF_ENDPOINT, version: '0.8', skills: ['s'], domains: [] },
      { name: 'MCP', endpoint: 'https://mcp.test', ...drain },
    ]);
    expect(doc.active).toBe(true);
  });

  it('an active offer entries carry neither available nor drainEndsAt, even when the seller wrote them', () => {
    const doc = render([registered('svc', { services: [{ name: 'MCP', endpoint: 'https://mcp.test', available: 'yes', drainEndsAt: 'never' }] })]);
    const raw = serializeRegistrationDocument(doc);
    expect(raw).not.toContain('available');
    expect(raw).not.toContain('drainEndsAt');
  });

  it('a drained offer leaves the document and a catalog with none left is a tombstone that keeps registrations', () => {
    const manifests = [registered('svc', {}, { drainAt: '2026-11-23T09:59:00Z', drainGracePeriod: '0s' })];
    const doc = render(manifests, { registrations: [REGISTRY] });
    expect(doc).toEqual({
      type: REGISTRATION_TYPE,
      name: 'edge.example.com',
      description: 'x402 payment-gated services at https://edge.example.com',
      services: [],
      x402Support: false,
      active: false,
      registrations: [REGISTRY],
    });
  });

  it('is a tombstone when only unregistered offers are published', () => {
    const doc = render([offerManifest({ name: 'svc' })], { name: 'Agent' });
    expect(doc).toMatchObject({ name: 'Agent', active: false, x402Support: false, services: [] });
  });

  it('goes from live to tombstone when the drain deadline passes by the caller clock', () => {
    const snapshot = fixtureSnapshot({ manifests: [registered('svc', {}, { drainAt: '2026-11-23T10:00:05Z', drainGracePeriod: '0s' })], nowMs: NOW });
    expect(renderRegistrationDocument({ snapshot, baseUrl: BASE, nowMs: NOW }).active).toBe(true);
    expect(renderRegistrationDocument({ snapshot, baseUrl: BASE, nowMs: NOW + 5_000 }).active).toBe(false);
  });
});
