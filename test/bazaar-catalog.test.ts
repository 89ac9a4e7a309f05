import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import { declareBazaar } from '../cluster-agent/src/discovery/bazaar-declaration.js';
import { RouteApi } from '../core/offer-api.js';
import { drainingDeclaration } from '../core/x402/bazaar.js';
import { createBazaarCatalog, ListQuery } from '../stack/bazaar-catalog.js';

/** The local facilitator's Bazaar catalog (stack/bazaar-catalog.ts), fed as its settle hook feeds it. */

const NOW = Date.parse('2026-12-01T00:00:00Z');
const declaration = declareBazaar(RouteApi.parse({ method: 'GET', tags: ['demo'] }));

function requirements(payTo: string, network = 'eip155:84532'): PaymentRequirements {
  return { scheme: 'exact', network, asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '1000', payTo, maxTimeoutSeconds: 300, extra: {} } as PaymentRequirements;
}

function payment(url: string, extensions?: Record<string, unknown>): PaymentPayload {
  return { x402Version: 2, resource: { url, description: 'd', mimeType: 'application/json' }, ...(extensions ? { extensions } : {}) } as unknown as PaymentPayload;
}

const all = ListQuery.parse({});

describe('the local Bazaar catalog', () => {
  it('files a declared resource by its URL without the query, once however often it is paid', () => {
    const catalog = createBazaarCatalog();
    expect(catalog.record(payment('https://e.test/services/a?x=1', { bazaar: declaration }), requirements('0xA'), NOW)).toBe(true);
    expect(catalog.record(payment('https://e.test/services/a?x=2', { bazaar: declaration }), requirements('0xA'), NOW + 1000)).toBe(true);
    const { items, pagination } = catalog.list(all, NOW);
    expect(items).toEqual([expect.objectContaining({ resource: 'https://e.test/services/a', type: 'http', lastUpdated: '2026-12-01T00:00:01.000Z' })]);
    expect(pagination).toEqual({ limit: 100, offset: 0, total: 1 });
  });

  it('files nothing for a payment without a declaration or with one that fails its own schema', () => {
    const catalog = createBazaarCatalog();
    expect(catalog.record(payment('https://e.test/services/a'), requirements('0xA'), NOW)).toBe(false);
    const broken = { ...declaration, info: { input: { type: 'http', method: 'TRACE' } } };
    expect(catalog.record(payment('https://e.test/services/b', { bazaar: broken }), requirements('0xA'), NOW)).toBe(false);
    expect(catalog.list(all, NOW).items).toEqual([]);
  });

  it('filters by payTo and network, and pages', () => {
    const catalog = createBazaarCatalog();
    catalog.record(payment('https://e.test/services/a', { bazaar: declaration }), requirements('0xA'), NOW);
    catalog.record(payment('https://e.test/services/b', { bazaar: declaration }), requirements('0xB'), NOW);
    catalog.record(payment('https://e.test/services/c', { bazaar: declaration }), requirements('0xB', 'eip155:8453'), NOW);
    const urls = (query: Record<string, string>) => catalog.list(ListQuery.parse(query), NOW).items.map((i) => i.resource.slice(-1));
    expect(urls({ payTo: '0xb' })).toEqual(['b', 'c']);
    expect(urls({ network: 'eip155:8453' })).toEqual(['c']);
    expect(urls({ limit: '1', offset: '1' })).toEqual(['b']);
    expect(ListQuery.safeParse({ limit: '0' }).success).toBe(false);
  });

  it('keeps a draining resource listed until its deadline, then leaves it out', () => {
    const catalog = createBazaarCatalog();
    const endsAt = '2026-12-01T01:00:00Z';
    catalog.record(payment('https://e.test/services/old', { bazaar: drainingDeclaration(declaration, endsAt) }), requirements('0xA'), NOW);
    expect(catalog.list(all, Date.parse(endsAt) - 1).items).toHaveLength(1);
    expect(catalog.list(all, Date.parse(endsAt)).items).toEqual([]);
  });
});
