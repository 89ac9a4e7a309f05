import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, offerManifest, FIXTURE_PAY_TO } from '../../test/support/catalog-fixture.js';
import { COUNTDOWN_SCRIPT, renderCatalogPage } from './catalog-html.js';
import { cspHash } from './html.js';
import { renderServicesDocument } from './services-json.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const draining = { drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' } as const;
const drained = { drainAt: '2026-11-23T08:00:00Z', drainGracePeriod: '1h' } as const;

type Fixture = Parameters<typeof fixtureSnapshot>[0];
function snapshot(manifests: Fixture['manifests'], extra: Partial<Fixture> = {}) {
  return fixtureSnapshot({ manifests, nowMs: NOW, ...extra });
}

/** Each offer card's markup, in page order, by `namespace/name`. */
function cards(markup: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of markup.matchAll(/<article class="card" data-offer="([^"]*)">([\s\S]*?)<\/article>/g)) found.set(match[1] ?? '', match[2] ?? '');
  return found;
}

function field(markup: string, name: string): string | undefined {
  return new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(markup)?.[1];
}

describe('catalog page', () => {
  it('lists exactly the offers services.json lists, in the same order, with the same per-request amounts', () => {
    const snap = snapshot(
      [
        offerManifest({ name: 'zeta', namespace: 'b' }),
        offerManifest({ name: 'llm', namespace: 'a', spec: { payment: { network: 'base', payTo: FIXTURE_PAY_TO, price: { perMTok: '2' } } } }),
        offerManifest({ name: 'sick', namespace: 'a' }),
        offerManifest({ name: 'old', namespace: 'a', spec: drained }),
        offerManifest({ name: 'sun', namespace: 'c', spec: draining }),
      ],
      { unhealthy: ['a/sick'] },
    );
    const { html } = renderCatalogPage({ snapshot: snap, baseUrl: BASE, nowMs: NOW });
    const services = renderServicesDocument({ snapshot: snap, baseUrl: BASE, nowMs: NOW }).services;
    const listed = cards(html);
    expect([...listed.keys()]).toEqual(services.map((s) => `${s.namespace}/${s.name}`));
    for (const service of services) {
      const card = listed.get(`${service.namespace}/${service.name}`) ?? '';
      expect(field(card, 'atomic')).toBe(service.priceAtomicUnits);
      expect(field(card, 'network')).toBe(service.caip2Network);
      expect(field(card, 'asset')).toBe(service.asset.address);
      expect(field(card, 'payTo')).toBe(service.payTo);
      expect(field(card, 'endpoint')).toBe(service.endpoint);
    }
    expect(field(listed.get('a/llm') ?? '', 'amount')).toBe('0.002');
    expect(field(listed.get('a/llm') ?? '', 'listed-price')).toBe('2 USDC per million tokens at 1,000 tokens per request');
    expect(field(listed.get('a/llm') ?? '', 'network-name')).toBe('Base');
    expect(field(listed.get('b/zeta') ?? '', 'amount')).toBe('0.001');
    expect(html).toContain('3 services available');
  });

  it('shows a draining offer with its deadline and a countdown, and an active one with neither', () => {
    const snap = snapshot([offerManifest({ name: 'sun', spec: draining }), offerManifest({ name: 'up' })]);
    const page = renderCatalogPage({ snapshot: snap, baseUrl: BASE, nowMs: NOW });
    const listed = cards(page.html);
    expect(field(listed.get('default/sun') ?? '', 'drain-ends')).toBe('2026-11-23T10:30:00Z');
    expect(listed.get('default/sun')).toContain('data-countdown="2026-11-23T10:30:00Z"');
    expect(listed.get('default/sun')).toContain('badge draining');
    expect(listed.get('default/up')).not.toContain('draining');
    expect(page.contentSecurityPolicy).toContain(`script-src ${cspHash(COUNTDOWN_SCRIPT)};`);
    expect(page.html).toContain(`<script>${COUNTDOWN_SCRIPT}</script>`);
  });

  it('runs no script at all when nothing drains', () => {
    const page = renderCatalogPage({ snapshot: snapshot([offerManifest({ name: 'up' })]), baseUrl: BASE, nowMs: NOW });
    expect(page.html).not.toContain('<script');
    expect(page.contentSecurityPolicy).toContain("script-src 'none'");
  });

  it('links the three discovery documents and says so when nothing is published', () => {
    const { html } = renderCatalogPage({ snapshot: snapshot([]), baseUrl: BASE, nowMs: NOW });
    for (const path of ['/skill.md', '/api/services.json', '/.well-known/agent-registration.json']) expect(html).toContain(`href="${path}"`);
    expect(html).toContain('No services currently available.');
    expect(html).toContain('0 services available');
  });

  it('escapes seller text: names, descriptions, models and the agent identity', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const snap = snapshot(
      [offerManifest({ name: 'x', spec: { type: 'inference', model: { name: hostile }, registration: { enabled: true, description: hostile } } })],
      { identity: { name: `Acme ${hostile}`, description: `"${hostile}"` } },
    );
    const { html } = renderCatalogPage({ snapshot: snap, baseUrl: BASE, nowMs: NOW });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('<title>Acme &lt;script&gt;');
  });

  it('ships a countdown script that parses', () => {
    expect(() => new Function(COUNTDOWN_SCRIPT)).not.toThrow();
  });
});
