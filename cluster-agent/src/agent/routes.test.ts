import { describe, expect, it } from 'vitest';
import { parseServiceOffer, type ServiceOffer } from '../../../core/index.js';
import { boundedName, buildHttpRoute, LABEL_VALUE_MAX, NAME_MAX, OFFER_LABEL, routeName } from './routes.js';

/** Kubernetes' own rules (apimachinery IsValidLabelValue, IsDNS1123Subdomain). */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const LONG = 'meta-llama.llama-3.1-70b-instruct.q4-k-m.ollama.gpu-pool-a.example-provider';

function offer(name: string): ServiceOffer {
  const parsed = parseServiceOffer({
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace: 'apis', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { upstream: { service: 'svc', port: 8080 }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } } },
  });
  if (!parsed.ok) throw new Error(`fixture offer invalid: ${JSON.stringify(parsed)}`);
  return parsed.offer;
}

describe('route names and the offer label', () => {
  it('short names keep exactly the values they had (no route churn on upgrade)', () => {
    expect(routeName('qwen')).toBe('obol-qwen');
    const longest = 'a'.repeat(NAME_MAX - 'obol-'.length);
    expect(routeName(longest)).toBe(`obol-${longest}`);
    const labelMax = 'b'.repeat(LABEL_VALUE_MAX);
    expect(boundedName(labelMax, LABEL_VALUE_MAX)).toBe(labelMax);
  });

  it('an offer name over 63 characters gets a valid label value of at most 63, distinct from its neighbours', () => {
    const route = buildHttpRoute(offer(LONG), { namespace: 'obol-system', name: 'gw' }) as { metadata: { name: string; labels: Record<string, string> } };
    const label = route.metadata.labels[OFFER_LABEL] ?? '';
    expect(label.length).toBeLessThanOrEqual(LABEL_VALUE_MAX);
    expect(label).toMatch(LABEL_VALUE);
    expect(label.startsWith(LONG.slice(0, 40))).toBe(true);
    expect(route.metadata.name).toBe(`obol-${LONG}`);
    expect(boundedName(`${LONG}-b`, LABEL_VALUE_MAX)).not.toBe(boundedName(`${LONG}-c`, LABEL_VALUE_MAX));
  });

  it('names that only differ past the limit get distinct route names, valid, never ending in "-" or "."', () => {
    const stem = 'x'.repeat(NAME_MAX - 'obol-'.length - 3);
    const names = [`${stem}abc`, `${stem}abd`, `${stem.slice(0, 236)}.-${'y'.repeat(20)}`].map((n) => n.slice(0, NAME_MAX));
    const routes = names.map(routeName);
    expect(new Set(routes).size).toBe(routes.length);
    for (const r of routes) {
      expect(r.length).toBeLessThanOrEqual(NAME_MAX);
      expect(r).toMatch(DNS_SUBDOMAIN);
    }
    const cut = boundedName(`${'z'.repeat(51)}.-${'w'.repeat(20)}`, LABEL_VALUE_MAX);
    expect(cut).toMatch(LABEL_VALUE);
    expect(cut).toMatch(/^z{51}-[0-9a-f]{10}$/);
  });
});
