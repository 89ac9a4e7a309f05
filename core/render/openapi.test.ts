import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, offerManifest, FIXTURE_PAY_TO } from '../../test/support/catalog-fixture.js';
import { OPENAPI_PATH, renderOpenApiDocument, serializeOpenApiDocument } from './openapi.js';
import { renderSkillMarkdown } from './skill-md.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

const weather = offerManifest({
  name: 'weather',
  namespace: 'apis',
  spec: {
    api: {
      method: 'GET',
      query: { schema: { type: 'object', properties: { city: { type: 'string', description: 'a city' }, days: { type: 'integer', minimum: 1 } }, required: ['city'] }, example: { city: 'Berlin' } },
      output: { example: { city: 'Berlin', forecast: 'sunny' } },
      tags: ['weather'],
    },
  },
});
const chat = offerManifest({
  name: 'llama',
  namespace: 'llm',
  spec: {
    type: 'inference',
    payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price: { perMTok: '2' } },
    api: { method: 'POST', body: { type: 'json', schema: { type: 'object', properties: { messages: { type: 'array', items: { type: 'object' } } }, required: ['messages'] }, example: { messages: [] } } },
  },
});
const plain = offerManifest({ name: 'plain', namespace: 'apis' });
const draining = offerManifest({ name: 'legacy', namespace: 'apis', spec: { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } });

type Doc = ReturnType<typeof renderOpenApiDocument> & { paths: Record<string, Record<string, Record<string, any>>> };

function render(manifests = [weather, chat, plain, draining], nowMs = NOW): Doc {
  return renderOpenApiDocument({ snapshot: fixtureSnapshot({ manifests, nowMs: NOW }), baseUrl: BASE, nowMs }) as Doc;
}

describe('/openapi.json', () => {
  it('is served at /openapi.json and linked from /skill.md', () => {
    expect(OPENAPI_PATH).toBe('/openapi.json');
    const skill = renderSkillMarkdown({ snapshot: fixtureSnapshot({ manifests: [plain], nowMs: NOW }), baseUrl: BASE, nowMs: NOW });
    expect(skill).toContain(`[/openapi.json](${BASE}/openapi.json)`);
  });

  it('validates as OpenAPI 3.1 with a maintained validator', async () => {
    const result = await validate(JSON.parse(serializeOpenApiDocument(render())));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
  });

  it('the validator can fail: a response without its description is refused', async () => {
    const broken = render();
    delete broken.paths['/services/weather']!.get!.responses['200'].description;
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('describes a GET route from spec.api: query parameters, output example, tags', () => {
    const get = render().paths['/services/weather']!.get!;
    expect(get.operationId).toBe('apis/weather');
    expect(get.tags).toEqual(['weather']);
    expect(get.parameters).toEqual([
      { name: 'city', in: 'query', required: true, description: 'a city', schema: { type: 'string', description: 'a city' }, example: 'Berlin' },
      { name: 'days', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
    ]);
    expect(get.responses['200'].content['application/json']).toEqual({ example: { city: 'Berlin', forecast: 'sunny' } });
  });

  it('describes a POST route with its request body', () => {
    const post = render().paths['/services/llama']!.post!;
    expect(post.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { type: 'object', properties: { messages: { type: 'array', items: { type: 'object' } } }, required: ['messages'] }, example: { messages: [] } } },
    });
  });

  it('gives each operation its payment terms in atomic units and its exact 402', () => {
    const doc = render();
    const post = doc.paths['/services/llama']!.post!;
    expect(post['x-payment-info']).toEqual({
      protocol: 'x402',
      x402Versions: [2, 1],
      scheme: 'exact',
      amount: '2000',
      amountDisplay: '0.002 USDC',
      price: '2 USDC/MTok',
      network: 'eip155:84532',
      networkName: 'Base Sepolia',
      v1Network: 'base-sepolia',
      asset: { address: USDC, symbol: 'USDC', decimals: 6, eip712Domain: { name: 'USDC', version: '2' } },
      payTo: FIXTURE_PAY_TO,
      maxTimeoutSeconds: 300,
    });
    const challenge = post.responses['402'].content['application/json'].example;
    expect(challenge.accepts).toEqual([expect.objectContaining({ maxAmountRequired: '2000', payTo: FIXTURE_PAY_TO, asset: USDC, resource: `${BASE}/services/llama` })]);
    expect(post.responses['402'].headers['PAYMENT-REQUIRED']).toEqual({ $ref: '#/components/headers/PaymentRequired' });
  });

  it('lists an offer without spec.api as GET with nothing described', () => {
    const plainPath = render().paths['/services/plain']!;
    expect(Object.keys(plainPath)).toEqual(['get']);
    expect(plainPath.get!.parameters).toBeUndefined();
    expect(plainPath.get!.responses['200'].content).toEqual({ 'application/json': {} });
  });

  it('marks a draining operation deprecated with its deadline; an active one carries neither', () => {
    const doc = render();
    const legacy = doc.paths['/services/legacy']!.get!;
    expect(legacy.deprecated).toBe(true);
    expect(legacy['x-payment-info'].drainEndsAt).toBe('2026-11-23T10:30:00Z');
    expect(legacy.description).toContain('2026-11-23T10:30:00Z');
    const active = doc.paths['/services/weather']!.get!;
    expect(active.deprecated).toBeUndefined();
    expect(active['x-payment-info'].drainEndsAt).toBeUndefined();
  });

  it('leaves out a drained offer', () => {
    const after = render(undefined, Date.parse('2026-11-23T10:30:00Z'));
    expect(Object.keys(after.paths)).toEqual(['/services/plain', '/services/weather', '/services/llama']);
  });
});
