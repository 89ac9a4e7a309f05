import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRfc3339 } from '../../../core/index.js';
import { renderCatalogPage } from '../../../core/render/catalog-html.js';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from '../../../test/support/snapshots.js';

/** `/` for people: the catalog page, with the discovery documents' caching and fail-closed rules. */
let edge: TestEdge;
beforeAll(async () => { edge = await startEdge({ vars: signerVars() }); });
afterAll(async () => { await edge?.dispose(); });

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('GET /', () => {
  it('answers 503 catalog_unavailable with no-store before the first push, like every document', async () => {
    const res = await edge.fetch('/', { headers: { Accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'catalog_unavailable' });
  });

  it('serves the catalog page rendered from the snapshot, with ETag, bounded max-age, CSP and 304 on a match', async () => {
    const nowMs = Date.now();
    const snapshot = makeSnapshot({
      sequence: nowMs,
      offers: [sampleOffer({ name: 'echo' }), sampleOffer({ name: 'sunset', spec: { drainAt: formatRfc3339(nowMs - 60_000), drainGracePeriod: '1h' } }), sampleOffer({ name: 'sick', upstreamHealthy: false })],
    });
    expect((await pushSnapshot(edge, snapshot)).status).toBe(200);
    const res = await edge.fetch('/', { headers: { Accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=(60|[1-5]?[0-9])$/);
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.headers.get('link')).toBe('</api/services.json>; rel="alternate"; type="application/json"');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'; connect-src 'none';/);
    const body = await res.text();
    expect(body).toBe(renderCatalogPage({ snapshot, baseUrl: TEST_PUBLIC_BASE_URL, nowMs }).html);
    expect(body).toContain('data-offer="llm/echo"');
    expect(body).toContain('data-offer="llm/sunset"');
    expect(body).not.toContain('data-offer="llm/sick"');
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await edge.fetch('/', { headers: { Accept: BROWSER_ACCEPT, 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the page to curl\'s */* and to no Accept at all, and answers HEAD without a body', async () => {
    for (const headers of [{ Accept: '*/*' }, {}] as Array<Record<string, string>>) {
      const res = await edge.fetch('/', { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
    const head = await edge.fetch('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('sends a client that prefers JSON to /api/services.json with 303', async () => {
    for (const accept of ['application/json', 'application/json, text/html;q=0.5']) {
      const res = await edge.fetch('/', { headers: { Accept: accept }, redirect: 'manual' });
      expect(res.status, accept).toBe(303);
      expect(res.headers.get('location')).toBe('/api/services.json');
      expect(res.headers.get('vary')).toBe('Accept');
    }
  });

  it('answers 405 to other methods and leaves other unknown paths at 404', async () => {
    const post = await edge.fetch('/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const nope = await edge.fetch('/nope');
    expect(nope.status).toBe(404);
    expect(await nope.json()).toEqual({ error: 'not_found' });
  });
});
