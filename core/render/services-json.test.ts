import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, offerManifest, FIXTURE_PAY_TO } from '../../test/support/catalog-fixture.js';
import { renderServicesDocument, serializeServicesDocument, ServicesDocument, type ServiceEntry } from './services-json.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';

function render(manifests: Parameters<typeof fixtureSnapshot>[0]['manifests'], nowMs = NOW, unhealthy: string[] = []) {
  return renderServicesDocument({ snapshot: fixtureSnapshot({ manifests, nowMs: NOW, unhealthy }), baseUrl: BASE, nowMs });
}

function only(doc: ServicesDocument): ServiceEntry {
  expect(doc.services).toHaveLength(1);
  return doc.services[0]!;
}

const draining = { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } as const;

describe('services.json', () => {
  it('lists published offers in namespace-then-name order whatever the snapshot order', () => {
    const snapshot = fixtureSnapshot({
      manifests: [offerManifest({ name: 'b', namespace: 'zeta' }), offerManifest({ name: 'z', namespace: 'alpha' }), offerManifest({ name: 'a', namespace: 'zeta', spec: { path: '/services/za' } })],
      nowMs: NOW,
    });
    const reversed = { ...snapshot, offers: [...snapshot.offers].reverse() };
    const doc = renderServicesDocument({ snapshot: reversed, baseUrl: BASE, nowMs: NOW });
    expect(doc.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['alpha/z', 'zeta/a', 'zeta/b']);
  });

  it('writes every entry key of SPEC §4.1 in order with absolute endpoint and exact amounts', () => {
    const entry = only(render([offerManifest({ name: 'llama', namespace: 'ai', spec: { type: 'inference', model: { name: 'llama3.2:1b' }, payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price: { perMTok: '2' } }, registration: { enabled: true, skills: ['chat'] } } })]));
    expect(Object.keys(entry)).toEqual(['name', 'namespace', 'type', 'model', 'endpoint', 'price', 'priceRaw', 'priceUnit', 'priceAtomicUnits', 'pricePerRequest', 'tokensPerRequest', 'priceBasis', 'payTo', 'network', 'caip2Network', 'chainId', 'asset', 'description', 'skills']);
    expect(entry).toEqual({
      name: 'llama', namespace: 'ai', type: 'inference', model: 'llama3.2:1b',
      endpoint: 'https://edge.example.com/services/llama',
      price: '2 USDC/MTok', priceRaw: '2', priceUnit: 'perMTok', priceAtomicUnits: '2000',
      pricePerRequest: '0.002', tokensPerRequest: 1000, priceBasis: '2 USDC per million tokens at 1,000 tokens per request',
      payTo: FIXTURE_PAY_TO, network: 'base-sepolia', caip2Network: 'eip155:84532', chainId: 84532,
      asset: { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', symbol: 'USDC', decimals: 6, transferMethod: 'eip3009', eip712Domain: { name: 'USDC', version: '2' } },
      description: 'x402 payment-gated inference service',
      skills: ['chat'],
    });
  });

  it('keeps the network as written and takes the description from the registration', () => {
    const entry = only(render([offerManifest({ name: 'x', spec: { payment: { network: 'eip155:8453', payTo: FIXTURE_PAY_TO, price: { perRequest: '0.01' } }, registration: { enabled: true, description: 'Fast OCR' } } })]));
    expect(entry.network).toBe('eip155:8453');
    expect(entry.caip2Network).toBe('eip155:8453');
    expect(entry.description).toBe('Fast OCR');
    expect(entry.priceAtomicUnits).toBe('10000');
  });

  it('omits model and skills when unset and never writes null', () => {
    const raw = serializeServicesDocument(render([offerManifest({ name: 'plain' })]));
    expect(raw).not.toContain('"model"');
    expect(raw).not.toContain('"skills"');
    expect(raw).not.toContain('null');
  });

  it('an active entry has neither drainEndsAt nor available in its raw JSON', () => {
    const raw = serializeServicesDocument(render([offerManifest({ name: 'live' })]));
    expect(raw).not.toContain('drainEndsAt');
    expect(raw).not.toContain('available');
  });

  it('a draining entry adds exactly drainEndsAt and is otherwise byte-identical to the undrained entry', () => {
    const active = only(render([offerManifest({ name: 'svc' })]));
    const drainingEntry = only(render([offerManifest({ name: 'svc', spec: draining })]));
    expect(Object.keys(drainingEntry)).toEqual([...Object.keys(active), 'drainEndsAt']);
    expect(drainingEntry.drainEndsAt).toBe('2026-11-23T10:30:00Z');
    const { drainEndsAt: _ends, ...withoutDrain } = drainingEntry;
    expect(JSON.stringify(withoutDrain)).toBe(JSON.stringify(active));
  });

  it('a drained offer leaves the document', () => {
    const doc = render([offerManifest({ name: 'gone', spec: { drainAt: '2026-11-23T08:00:00Z', drainGracePeriod: '1h' } }), offerManifest({ name: 'kept' })]);
    expect(doc.services.map((s) => s.name)).toEqual(['kept']);
  });

  it('a 0s grace drains the offer at drainAt', () => {
    const manifests = [offerManifest({ name: 'now', spec: { drainAt: '2026-11-23T10:00:05Z', drainGracePeriod: '0s' } })];
    expect(only(render(manifests, NOW)).drainEndsAt).toBe('2026-11-23T10:00:05Z');
    expect(render(manifests, NOW + 5_000).services).toEqual([]);
  });

  it('applies the drain deadline by the caller clock without a new snapshot', () => {
    const snapshot = fixtureSnapshot({ manifests: [offerManifest({ name: 'svc', spec: draining })], nowMs: NOW });
    const ends = Date.parse('2026-11-23T10:30:00Z');
    expect(renderServicesDocument({ snapshot, baseUrl: BASE, nowMs: ends - 1 }).services).toHaveLength(1);
    expect(renderServicesDocument({ snapshot, baseUrl: BASE, nowMs: ends }).services).toEqual([]);
  });

  it('leaves out offers that are in the snapshot but not published', () => {
    const doc = render([offerManifest({ name: 'sick' }), offerManifest({ name: 'well' })], NOW, ['default/sick']);
    expect(doc.services.map((s) => s.name)).toEqual(['well']);
  });

  it('renders an empty list for an empty catalog', () => {
    expect(serializeServicesDocument(render([]))).toBe('{\n  "schemaVersion": "1",\n  "services": []\n}\n');
  });

  it('rendered documents satisfy the schema and the schema refuses an available key', () => {
    const doc = render([offerManifest({ name: 'a', spec: draining }), offerManifest({ name: 'b', spec: { model: { name: 'm' } } })]);
    expect(ServicesDocument.safeParse(doc).success).toBe(true);
    const withAvailable = { ...doc, services: [{ ...doc.services[0], available: false }] };
    expect(ServicesDocument.safeParse(withAvailable).success).toBe(false);
  });
});
