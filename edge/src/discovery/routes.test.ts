import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRfc3339, type CatalogSnapshot } from '../../../core/index.js';
import { renderOpenApiDocument, serializeOpenApiDocument } from '../../../core/render/openapi.js';
import { registrationJsonSchema, renderRegistrationDocument, serializeRegistrationDocument } from '../../../core/render/registration.js';
import { renderServicesDocument, serializeServicesDocument, servicesJsonSchema } from '../../../core/render/services-json.js';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars, TEST_KEYS } from '../../../test/support/snapshots.js';

const DOCUMENTS = ['/api/services.json', '/skill.md', '/.well-known/agent-registration.json', '/openapi.json'] as const;
const CONTENT_TYPES: Record<(typeof DOCUMENTS)[number], string> = {
  '/api/services.json': 'application/json',
  '/skill.md': 'text/markdown; charset=utf-8',
  '/.well-known/agent-registration.json': 'application/json',
  '/openapi.json': 'application/json',
};

let edge: TestEdge;
let sequence = 1;

async function push(snapshot: Omit<CatalogSnapshot, 'sequence'>): Promise<CatalogSnapshot> {
  const full = { ...snapshot, sequence: sequence++ };
  const res = await pushSnapshot(edge, full);
  expect(res.status, await res.clone().text()).toBe(200);
  return full;
}

function catalog(): Omit<CatalogSnapshot, 'sequence'> {
  const offers = [
    sampleOffer({ name: 'qwen', namespace: 'llm', spec: { registration: { enabled: true, skills: ['chat'] } } }),
    sampleOffer({ name: 'ocr', namespace: 'apps', spec: { type: 'http', model: undefined } }),
  ];
  return makeSnapshot({ offers, identity: { name: 'Test Seller', registrations: [] } });
}

beforeAll(async () => {
  edge = await startEdge({ vars: signerVars(TEST_KEYS.signer) });
});
afterAll(async () => {
  await edge.dispose();
});

describe('discovery routes through the real worker', () => {
  it('answers 503 catalog_unavailable with no-store for every document before the first push', async () => {
    for (const path of DOCUMENTS) {
      const res = await edge.fetch(path);
      expect(res.status, path).toBe(503);
      expect(await res.json()).toEqual({ error: 'catalog_unavailable' });
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('serves the committed JSON Schemas (services.json, the registration file) with CORS, even before any snapshot', async () => {
    for (const [path, schema] of [['/api/services.schema.json', servicesJsonSchema()], ['/.well-known/agent-registration.schema.json', registrationJsonSchema()]] as const) {
      const res = await edge.fetch(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.text()).toBe(schema);
    }
    expect((await edge.fetch('/.well-known/agent-registration.schema.json', { method: 'DELETE' })).status).toBe(405);
  });

  it('serves the documents with their content types, CORS and the renderers exact bytes after a push', async () => {
    const pushed = await push(catalog());
    const nowMs = Date.now();
    for (const path of DOCUMENTS) {
      const res = await edge.fetch(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(CONTENT_TYPES[path]);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    }
    const params = { snapshot: pushed, baseUrl: TEST_PUBLIC_BASE_URL, nowMs };
    expect(await (await edge.fetch('/api/services.json')).text()).toBe(serializeServicesDocument(renderServicesDocument(params)));
    const registration = await edge.fetch('/.well-known/agent-registration.json');
    expect(await registration.text()).toBe(serializeRegistrationDocument(renderRegistrationDocument(params)));
    // ERC-8004 has no key for a schema in the file, so the response names it (RFC 8288 describedby).
    expect(registration.headers.get('link')).toBe('</.well-known/agent-registration.schema.json>; rel="describedby"');
    const services = (await (await edge.fetch('/api/services.json')).json()) as { services: { namespace: string; endpoint: string }[] };
    expect(services.services.map((s) => s.namespace)).toEqual(['apps', 'llm']);
    expect(services.services[0]?.endpoint).toBe(`${TEST_PUBLIC_BASE_URL}/services/ocr`);
    expect(await (await edge.fetch('/skill.md')).text()).toContain('| qwen | inference | qwen3:0.6b |');
    expect(await (await edge.fetch('/openapi.json')).text()).toBe(serializeOpenApiDocument(renderOpenApiDocument(params)));
  });

  it('answers HEAD with the GET headers and no body', async () => {
    for (const path of DOCUMENTS) {
      const [get, head] = [await edge.fetch(path), await edge.fetch(path, { method: 'HEAD' })];
      expect(head.status).toBe(200);
      for (const name of ['content-type', 'etag', 'cache-control', 'access-control-allow-origin']) {
        expect(head.headers.get(name), `${path} ${name}`).toBe(get.headers.get(name));
      }
      expect(await head.text()).toBe('');
    }
  });

  it('answers a CORS preflight with 204 and the allowed methods', async () => {
    for (const path of [...DOCUMENTS, '/api/services.schema.json']) {
      const res = await edge.fetch(path, { method: 'OPTIONS', headers: { Origin: 'https://agent.test', 'Access-Control-Request-Method': 'GET' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,OPTIONS');
    }
  });

  it('gives a strong ETag and answers a matching If-None-Match with 304 and no body', async () => {
    for (const path of DOCUMENTS) {
      const first = await edge.fetch(path);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      const again = await edge.fetch(path, { headers: { 'If-None-Match': `"other", ${etag}` } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('cache-control')).toBe(first.headers.get('cache-control'));
      expect(await again.text()).toBe('');
      const stale = await edge.fetch(path, { headers: { 'If-None-Match': '"not-it", garbage' } });
      expect(stale.status).toBe(200);
    }
  });

  it('refuses other methods with 405 and an Allow header', async () => {
    const res = await edge.fetch('/api/services.json', { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(await res.json()).toEqual({ error: 'method_not_allowed', message: 'use GET, HEAD, OPTIONS' });
    for (const path of ['/skill.md', '/.well-known/agent-registration.json', '/api/services.schema.json']) {
      const other = await edge.fetch(path, { method: 'DELETE' });
      expect(other.status, path).toBe(405);
      expect(other.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    }
    expect((await edge.fetch('/not-a-document', { method: 'POST' })).status).toBe(404);
  });

  it('keeps serving the same documents when a push is rejected, and changes the ETag on an accepted one', async () => {
    const before = await edge.fetch('/api/services.json');
    const etag = before.headers.get('etag');
    const bad = await pushSnapshot(edge, { ...makeSnapshot({ offers: [] }), sequence: sequence + 100 }, { key: TEST_KEYS.stranger });
    expect(bad.status).toBe(401);
    const after = await edge.fetch('/api/services.json');
    expect(after.headers.get('etag')).toBe(etag);
    expect(await after.text()).toBe(await before.text());
    await push(makeSnapshot({ offers: [sampleOffer({ name: 'only' })] }));
    const changed = await edge.fetch('/api/services.json');
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as { services: { name: string }[] }).services.map((s) => s.name)).toEqual(['only']);
  });

  it('bounds Cache-Control by a drain deadline a few seconds away', async () => {
    const drainAt = formatRfc3339(Date.now() + 5_000);
    await push(makeSnapshot({ offers: [sampleOffer({ name: 'soon', spec: { drainAt, drainGracePeriod: '0s' } }), sampleOffer({ name: 'stays' })] }));
    for (const path of DOCUMENTS) {
      const res = await edge.fetch(path);
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge, path).toBeLessThanOrEqual(5);
      expect(Date.now() + maxAge * 1000).toBeLessThanOrEqual(Date.parse(drainAt));
    }
  });
});
