import { extractDiscoveryInfo, validateDiscoveryExtension, validateDiscoveryExtensionSpec } from '@x402/extensions/bazaar';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import { planCatalog } from '../../../core/catalog-plan.js';
import { MAX_API_TOTAL_JSON_BYTES, RouteApi, type RouteApiInput } from '../../../core/offer-api.js';
import { encodeBase64Json } from '../../../core/x402/base64-json.js';
import { MAX_PAYMENT_HEADER_CHARS } from '../../../core/x402/payment-header.js';
import { PAYMENT_IDENTIFIER, PAYMENT_IDENTIFIER_DECLARATION } from '../../../core/x402/payment-identifier.js';
import { parseServiceOffer } from '../../../core/offer-rules.js';
import { CatalogSnapshot, SnapshotOffer } from '../../../core/snapshot.js';
import { drainingDeclaration, type BazaarDeclaration } from '../../../core/x402/bazaar.js';
import { declareBazaar } from './bazaar-declaration.js';

const WEATHER: RouteApiInput = {
  method: 'GET',
  query: { schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, example: { city: 'Berlin' } },
  output: { example: { city: 'Berlin', forecast: 'sunny', temperatureC: 21 } },
  tags: ['weather'],
};
const CHAT: RouteApiInput = {
  method: 'POST',
  body: {
    schema: { type: 'object', properties: { model: { type: 'string' }, messages: { type: 'array', items: { type: 'object' } } }, required: ['messages'] },
    example: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }] },
  },
};

function officiallyValid(declaration: BazaarDeclaration): void {
  expect(validateDiscoveryExtensionSpec(declaration as never)).toEqual({ valid: true });
  expect(validateDiscoveryExtension(declaration as never)).toEqual({ valid: true });
}

/** What a facilitator catalogs from a v2 payment that echoes the declaration. */
function cataloged(declaration: BazaarDeclaration) {
  const payload = { x402Version: 2, resource: { url: 'https://edge.test/services/weather?city=Berlin' }, extensions: { bazaar: declaration } };
  return extractDiscoveryInfo(payload as unknown as PaymentPayload, {} as PaymentRequirements);
}

describe('declareBazaar', () => {
  it('declares a GET route with its query and output, valid by the official validators', () => {
    const declaration = declareBazaar(RouteApi.parse(WEATHER));
    officiallyValid(declaration);
    expect(declaration.info).toEqual({
      input: { type: 'http', method: 'GET', queryParams: { city: 'Berlin' } },
      output: { type: 'json', example: { city: 'Berlin', forecast: 'sunny', temperatureC: 21 } },
    });
    expect(cataloged(declaration)).toMatchObject({ resourceUrl: 'https://edge.test/services/weather', method: 'GET', discoveryInfo: declaration.info });
  });

  it('declares a POST route with its JSON body', () => {
    const declaration = declareBazaar(RouteApi.parse(CHAT));
    officiallyValid(declaration);
    expect(declaration.info.input).toEqual({ type: 'http', method: 'POST', bodyType: 'json', body: CHAT.body?.example });
  });

  it('a declaration whose example breaks its schema fails the official validator (the validator can fail)', () => {
    const declaration = declareBazaar(RouteApi.parse({ ...WEATHER, query: { ...WEATHER.query, example: { city: 5 } } }));
    expect(validateDiscoveryExtension(declaration as never).valid).toBe(false);
  });

  it('the draining form carries the deadline and stays valid; the active form has none', () => {
    const declaration = declareBazaar(RouteApi.parse(WEATHER));
    expect(declaration.info.drainEndsAt).toBeUndefined();
    const draining = drainingDeclaration(declaration, '2030-01-01T01:00:00Z');
    officiallyValid(draining);
    expect(cataloged(draining)?.discoveryInfo).toMatchObject({ drainEndsAt: '2030-01-01T01:00:00Z' });
    expect(validateDiscoveryExtension(drainingDeclaration(declaration, 'soon') as never).valid).toBe(false);
  });
});

describe('the size bound', () => {
  it('the largest spec.api, echoed in a payment with the longest description, fits the payment header', () => {
    const text = (n: number) => 'x'.repeat(n);
    const api = RouteApi.parse({
      method: 'GET',
      query: {
        schema: { type: 'object', description: text(500), properties: { q: { type: 'string', description: text(500) }, r: { type: 'string', description: text(300) } }, required: ['q'] },
        example: { q: text(1080) },
      },
      output: { example: { a: text(1300) } },
      tags: ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32), 'd'.repeat(32), 'e'.repeat(32)],
    });
    expect(JSON.stringify(api).length).toBeGreaterThan(MAX_API_TOTAL_JSON_BYTES - 200);
    const address = `0x${'ab'.repeat(20)}`;
    const echoed = {
      x402Version: 2,
      resource: { url: `https://${text(60)}.example/services/${text(490)}`, description: text(4096 + 200), mimeType: 'application/json', tags: api.tags },
      accepted: { scheme: 'exact', network: 'eip155:84532', amount: '1'.repeat(20), asset: address, payTo: address, maxTimeoutSeconds: 86400, extra: { name: 'USDC', version: '2' } },
      payload: {
        signature: `0x${'cd'.repeat(65)}`,
        authorization: { from: address, to: address, value: '1'.repeat(20), validAfter: '0', validBefore: '9'.repeat(10), nonce: `0x${'ef'.repeat(32)}` },
      },
      extensions: {
        [PAYMENT_IDENTIFIER]: { ...PAYMENT_IDENTIFIER_DECLARATION, info: { ...(PAYMENT_IDENTIFIER_DECLARATION.info as object), id: `pay_${text(124)}` } },
        bazaar: declareBazaar(api),
      },
    };
    expect(encodeBase64Json(echoed).length).toBeLessThanOrEqual(MAX_PAYMENT_HEADER_CHARS);
  });
});

describe('the snapshot entry of an offer with spec.api', () => {
  function entry(api: RouteApiInput | undefined) {
    const parsed = parseServiceOffer({
      apiVersion: 'obol.org/v1alpha1',
      kind: 'ServiceOffer',
      metadata: { name: 'weather', namespace: 'apis' },
      spec: { upstream: { service: 'weather' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } }, api },
    });
    const plan = planCatalog({
      offers: [{ key: 'apis/weather', parsed }],
      observe: () => ({ upstreamHealthy: true, routePublished: true }),
      routeManagement: false,
      source: 'dir',
      nowMs: Date.parse('2026-12-01T00:00:00Z'),
      declareBazaar,
    });
    return plan.offers[0];
  }

  it('carries the api and its declaration, and the edge\'s snapshot parser keeps both (no new schema version)', () => {
    const carried = entry(WEATHER);
    expect(carried?.api).toEqual(RouteApi.parse(WEATHER));
    expect(carried?.bazaar).toEqual(declareBazaar(RouteApi.parse(WEATHER)));
    const snapshot = CatalogSnapshot.parse({ schemaVersion: '2', sequence: 1, issuedAt: '2026-12-01T00:00:00Z', audience: 'https://edge.test', identity: {}, offers: [carried] });
    expect(snapshot.offers[0]).toEqual(SnapshotOffer.parse(carried));
    expect(snapshot.offers[0]?.bazaar).toEqual(carried?.bazaar);
  });

  it('bad input in spec.api names the field, leaves that offer out and changes no other entry', () => {
    const good = parseServiceOffer({
      apiVersion: 'obol.org/v1alpha1', kind: 'ServiceOffer', metadata: { name: 'good', namespace: 'apis' },
      spec: { upstream: { service: 'good' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } }, api: WEATHER },
    });
    const bad = parseServiceOffer({
      apiVersion: 'obol.org/v1alpha1', kind: 'ServiceOffer', metadata: { name: 'bad', namespace: 'apis' },
      spec: { upstream: { service: 'bad' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } }, api: { method: 'GET', output: { example: { blob: 'x'.repeat(3000) } } } },
    });
    const plan = (offers: Parameters<typeof planCatalog>[0]['offers']) =>
      planCatalog({ offers, observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: Date.parse('2026-12-01T00:00:00Z'), declareBazaar });
    const alone = plan([{ key: 'apis/good', parsed: good }]);
    const both = plan([{ key: 'apis/bad', parsed: bad }, { key: 'apis/good', parsed: good }]);
    expect(both.decisions.find((d) => d.key === 'apis/bad')?.invalid).toMatch(/^spec\.api\.output\.example: must be at most 2048 bytes as JSON/);
    expect(both.offers).toEqual(alone.offers);
  });

  it('an offer without spec.api carries neither', () => {
    const carried = entry(undefined);
    expect(carried).toBeDefined();
    expect(carried?.api).toBeUndefined();
    expect(carried?.bazaar).toBeUndefined();
  });
});
