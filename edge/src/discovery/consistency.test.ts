import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRfc3339 } from '../../../core/index.js';
import { discoveryConsistency, type DiscoveryProbe } from '../../../test/support/discovery-consistency.js';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars, TEST_KEYS } from '../../../test/support/snapshots.js';

/**
 * The three discovery documents and the live 402 of every offer they list agree, read from the real
 * worker in workerd after a signed push, as a scorer reads them (test/support/discovery-consistency.ts).
 */

const BASE = TEST_PUBLIC_BASE_URL;
const OTHER_PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const drainEndsAt = formatRfc3339(Date.now() + 3_600_000);

let edge: TestEdge;

/** Public URLs go to the worker's real listener. */
function probeThrough(rewrite: (url: string, res: Response) => Promise<Response> = async (_url, res) => res): DiscoveryProbe {
  return {
    publicBaseUrl: BASE,
    async fetch(url) {
      if (!url.startsWith(`${BASE}/`)) throw new Error(`the probe only calls this edge, not ${url}`);
      return rewrite(url, await edge.fetch(url.slice(BASE.length)));
    },
  };
}

async function replaceBody(res: Response, from: string, to: string): Promise<Response> {
  const text = await res.text();
  expect(text).toContain(from);
  return new Response(text.replace(from, to), { status: res.status, headers: res.headers });
}

beforeAll(async () => {
  // An unpaid request never reaches the facilitator or the origin: the gate only needs their URLs set.
  const unreached = 'http://127.0.0.1:9';
  edge = await startEdge({ vars: { ...signerVars(TEST_KEYS.signer), FACILITATOR_URL: unreached, ORIGIN_URL: unreached } });
  const offers = [
    sampleOffer({
      name: 'qwen',
      namespace: 'llm',
      spec: {
        payment: { network: 'base-sepolia', payTo: OTHER_PAY_TO, price: { perMTok: '2', tokensPerRequest: 4000 } },
        registration: {
          enabled: true,
          skills: ['natural_language_processing/text_completion'],
          domains: ['technology'],
          services: [{ name: 'chat', endpoint: '/services/qwen/v1/chat/completions', version: 'v1' }, { name: 'A2A', endpoint: 'https://a2a.seller.test/card.json' }],
        },
      },
    }),
    sampleOffer({ name: 'weather', namespace: 'apis', spec: { type: 'http', model: undefined, payment: { network: 'eip155:8453', payTo: OTHER_PAY_TO, price: { perRequest: '0.25' } }, registration: { enabled: true } } }),
    sampleOffer({ name: 'summarize', namespace: 'apis', spec: { drainAt: drainEndsAt, drainGracePeriod: '0s', registration: { enabled: true, services: [{ name: 'MCP', endpoint: '/services/summarize/mcp' }] } } }),
    // Two ways to pay (issue 11): every document and the 402 must list both, in the same order.
    sampleOffer({ name: 'ocr', namespace: 'apps', spec: { type: 'http', model: undefined, payment: { network: 'base', payTo: OTHER_PAY_TO, price: { perRequest: '0.003' }, alternatives: [{ network: 'base-sepolia' }] } } }),
    sampleOffer({ name: 'gone', namespace: 'apis', spec: { drainAt: '2026-01-01T00:00:00Z', drainGracePeriod: '0s', registration: { enabled: true } } }),
  ];
  const res = await pushSnapshot(edge, makeSnapshot({ offers, identity: { name: 'Consistent Seller', registrations: [] } }));
  expect(res.status, await res.clone().text()).toBe(200);
});

afterAll(async () => {
  await edge?.dispose();
});

describe('discovery documents against the live 402s', () => {
  it('agree on price, payTo, network, asset, endpoint and drain for every listed offer', async () => {
    const report = await discoveryConsistency(probeThrough());
    expect(report.disagreements).toEqual([]);
    expect([...report.offers.values()].map((o) => `${o.namespace}/${o.name}`)).toEqual(['apis/summarize', 'apis/weather', 'apps/ocr', 'llm/qwen']);
    // Every offer's route, the pages the registration file lists under them, and every catalog document were called.
    for (const path of ['/services/qwen', '/services/qwen/v1/chat/completions', '/services/summarize/mcp', '/services/ocr', '/', '/skill.md', '/api/services.json', '/openapi.json']) {
      expect(report.fetched, path).toContain(`${BASE}${path}`);
    }
  });

  it('a drained offer has left every document and its route answers 410', async () => {
    for (const path of ['/api/services.json', '/skill.md', '/.well-known/agent-registration.json', '/']) {
      expect(await (await edge.fetch(path)).text(), path).not.toContain('/services/gone');
    }
    expect((await edge.fetch('/services/gone')).status).toBe(410);
  });

  it('the registration file lists every registration-enabled listed offer, the draining one marked', async () => {
    const file = (await (await edge.fetch('/.well-known/agent-registration.json')).json()) as { services: Record<string, unknown>[] };
    const web = file.services.filter((s) => s['name'] === 'web').map((s) => [s['endpoint'], s['available'], s['drainEndsAt']]);
    expect(web).toEqual([
      [`${BASE}/`, undefined, undefined],
      [`${BASE}/services/summarize`, false, drainEndsAt],
      [`${BASE}/services/weather`, undefined, undefined],
      [`${BASE}/services/qwen`, undefined, undefined],
    ]);
  });

  describe('the check fails on any disagreement', () => {
    it('a price in services.json that the 402 does not demand', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => (url.endsWith('/api/services.json') ? replaceBody(res, '"priceAtomicUnits": "250000"', '"priceAtomicUnits": "250001"') : res)),
      );
      expect(report.disagreements).toContain('apis/weather at https://edge.test/services/weather (listed in services.json): price (atomic units): services.json says "250001", 402 v1 says "250000"');
    });

    it('a payTo in the 402 header that the documents do not name', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => {
          if (!url.endsWith('/services/ocr')) return res;
          const header = res.headers.get('PAYMENT-REQUIRED') ?? '';
          const decoded = atob(header).replace(OTHER_PAY_TO, TEST_KEYS.signer.slice(0, 42));
          const headers = new Headers(res.headers);
          headers.set('PAYMENT-REQUIRED', btoa(decoded));
          return new Response(res.body, { status: res.status, headers });
        }),
      );
      expect(report.disagreements.some((d) => d.startsWith('apps/ocr at https://edge.test/services/ocr') && d.includes('payTo') && d.includes('402 v2'))).toBe(true);
    });

    it('a 402 that lists fewer ways to pay than services.json', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => {
          if (!url.endsWith('/services/ocr')) return res;
          const challenge = JSON.parse(atob(res.headers.get('PAYMENT-REQUIRED') ?? '')) as { accepts: unknown[] };
          const headers = new Headers(res.headers);
          headers.set('PAYMENT-REQUIRED', btoa(JSON.stringify({ ...challenge, accepts: challenge.accepts.slice(0, 1) })));
          return new Response(res.body, { status: res.status, headers });
        }),
      );
      expect(report.disagreements).toContain('apps/ocr at https://edge.test/services/ocr (listed in services.json): the 402 offers 1 requirement(s) in v2 and 2 in v1, services.json lists 2 (2 with a v1 name)');
    });

    it('a network, an asset or an endpoint that skill.md states differently', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => (url.endsWith('/skill.md') ? replaceBody(res, '- **Network**: base (`eip155:8453`)', '- **Network**: base (`eip155:84532`)') : res)),
      );
      expect(report.disagreements).toContain('apps/ocr in skill.md: network: services.json says "base (`eip155:8453`)", skill.md says "base (`eip155:84532`)"');
      const asset = await discoveryConsistency(
        probeThrough(async (url, res) => (url.endsWith('/api/services.json') ? replaceBody(res, '"address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"', '"address": "0x036CbD53842c5426634e7929541eC2318f3dCF7e"') : res)),
      );
      expect(asset.disagreements.filter((d) => d.includes(': asset: ')).length).toBeGreaterThanOrEqual(2);
      const endpoint = await discoveryConsistency(
        probeThrough(async (url, res) => (url.endsWith('/skill.md') ? replaceBody(res, '- **Endpoint**: `https://edge.test/services/ocr`', '- **Endpoint**: `https://edge.test/services/ocr2`') : res)),
      );
      expect(endpoint.disagreements).toContain('skill.md lists https://edge.test/services/ocr2, services.json does not');
    });

    it('a price in openapi.json that the catalog does not list', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => (url.endsWith('/openapi.json') ? replaceBody(res, '"amount": "250000"', '"amount": "25000"') : res)),
      );
      expect(report.disagreements).toContain('apis/weather in openapi.json (get): price (atomic units): services.json says "250000", openapi.json says "25000"');
    });

    it('a draining offer the registration file shows as available, and an entry no offer serves', async () => {
      const report = await discoveryConsistency(
        probeThrough(async (url, res) => {
          if (!url.endsWith('/.well-known/agent-registration.json')) return res;
          const file = (await res.json()) as { services: Record<string, unknown>[] };
          const services = file.services.map((s) => (s['endpoint'] === `${BASE}/services/summarize` ? { name: 'web', endpoint: s['endpoint'] } : s));
          services.push({ name: 'web', endpoint: `${BASE}/services/nowhere` });
          return new Response(JSON.stringify({ ...file, services }), { status: 200, headers: res.headers });
        }),
      );
      expect(report.disagreements).toContain(`registration entry web ${BASE}/services/summarize: drain deadline: services.json says "${drainEndsAt}", registration says undefined`);
      expect(report.disagreements).toContain(`registration entry web ${BASE}/services/nowhere: no listed offer serves it`);
    });
  });
});
