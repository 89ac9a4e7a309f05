import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durableObjectNamespace, startEdge, type TestEdge } from '../../../test/support/edge.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from '../../../test/support/snapshots.js';
import { parseExposition } from '../../../test/support/exposition-parser.js';
import { offerLabels } from './recorder.js';
import type { SeriesDelta } from './series.js';
import { METRICS_STORE_NAME } from './store-client.js';

/** GET /_obol/v1/metrics and the MetricsStore Durable Object, through the real worker in workerd. */
const TOKEN = 'metrics-test-token-0123456789';

async function storeOf(edge: TestEdge) {
  const namespace = await durableObjectNamespace(edge, 'METRICS');
  return namespace.get(namespace.idFromName(METRICS_STORE_NAME));
}

const alpha = sampleOffer({ name: 'alpha', namespace: 'shop' });
const beta = sampleOffer({ name: 'beta', namespace: 'shop' });
const alphaLabels = offerLabels(alpha);
const betaLabels = offerLabels(beta);

function delta(metric: SeriesDelta['metric'], labels: SeriesDelta['labels'], value: number, reason = ''): SeriesDelta {
  return { metric, labels, reason, value };
}

function scrape(edge: TestEdge, authorization?: string): Promise<Response> {
  return edge.fetch('/_obol/v1/metrics', authorization ? { headers: { Authorization: authorization } } : {});
}

async function scrapeFamilies(edge: TestEdge) {
  const res = await scrape(edge, `Bearer ${TOKEN}`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

describe('metrics endpoint authorization', () => {
  let edge: TestEdge;
  let unconfigured: TestEdge;
  beforeAll(async () => {
    [edge, unconfigured] = await Promise.all([startEdge({ vars: { METRICS_TOKEN: TOKEN } }), startEdge()]);
  });
  afterAll(async () => {
    await Promise.all([edge.dispose(), unconfigured.dispose()]);
  });

  it('refuses every scrape with 403 when no METRICS_TOKEN is configured (fail closed)', async () => {
    for (const auth of [undefined, 'Bearer ', `Bearer ${TOKEN}`]) {
      const res = await scrape(unconfigured, auth);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'metrics_disabled' });
    }
  });

  it('answers 401 without a token, with a wrong token, a wrong scheme, a token prefix or a malformed header', async () => {
    const wrong = [
      undefined, 'Bearer nope', `Bearer ${TOKEN.slice(0, -1)}X`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(0, 8)}`, `Bearer ${TOKEN}x`,
      'Bearer ', 'Bearer', `Bearer ${TOKEN} extra`, `Bearer "${TOKEN}"`, `Bearer${TOKEN}`,
    ];
    for (const auth of wrong) {
      const res = await scrape(edge, auth);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="obol-edge-metrics"');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'unauthorized', reason: 'invalid_metrics_token' });
    }
  });

  it('takes the scheme in any case and the token after any run of spaces', async () => {
    for (const auth of [`bearer ${TOKEN}`, `BEARER  ${TOKEN}`]) expect((await scrape(edge, auth)).status, auth).toBe(200);
  });

  it('405 with Allow for other methods, token or not', async () => {
    for (const [target, method] of [[edge, 'POST'], [edge, 'DELETE'], [unconfigured, 'PUT']] as const) {
      const res = await target.fetch('/_obol/v1/metrics', { method, headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('serves Prometheus text with the right token, not cached', async () => {
    const res = await scrape(edge, `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const families = parseExposition(await res.text());
    expect(families.get('obol_x402_verifier_requests_total')?.type).toBe('counter');
    expect(families.get('obol_x402_verifier_last_payment_success_seconds')?.type).toBe('gauge');
  });
});

describe('metrics totals', () => {
  let edge: TestEdge;
  let store: Awaited<ReturnType<typeof storeOf>>;
  beforeAll(async () => {
    edge = await startEdge({ vars: { METRICS_TOKEN: TOKEN, ...signerVars() } });
    store = await storeOf(edge);
  });
  afterAll(async () => {
    await edge.dispose();
  });

  it('exposes nothing and deletes nothing before the first snapshot', async () => {
    await store.add([delta('obol_x402_verifier_requests_total', alphaLabels, 1)]);
    const families = await scrapeFamilies(edge);
    expect([...families.values()].flatMap((f) => f.samples)).toEqual([]);
    expect(await store.read()).toHaveLength(1);
  });

  it('sums counters across batches, keeps the gauge at its latest value, per offer labels', async () => {
    expect((await pushSnapshot(edge, makeSnapshot({ offers: [alpha, beta], sequence: 1 }))).status).toBe(200);
    await store.add([delta('obol_x402_verifier_requests_total', alphaLabels, 4), delta('obol_x402_verifier_requests_total', betaLabels, 2)]);
    await store.add([
      delta('obol_x402_verifier_last_payment_success_seconds', alphaLabels, 1_795_000_100),
      delta('obol_x402_verifier_last_payment_success_seconds', alphaLabels, 1_795_000_000),
      delta('obol_x402_verifier_payment_failure_reasons_total', alphaLabels, 2, 'invalid_exact_evm_payload_signature'),
    ]);
    const families = await scrapeFamilies(edge);
    expect(families.get('obol_x402_verifier_requests_total')?.samples).toEqual([
      { labels: { offer_namespace: 'shop', offer_name: 'alpha', chain: 'eip155:84532', asset_symbol: 'USDC' }, value: 5 },
      { labels: { offer_namespace: 'shop', offer_name: 'beta', chain: 'eip155:84532', asset_symbol: 'USDC' }, value: 2 },
    ]);
    expect(families.get('obol_x402_verifier_last_payment_success_seconds')?.samples).toEqual([{ labels: alphaLabels, value: 1_795_000_100 }]);
    expect(families.get('obol_x402_verifier_payment_failure_reasons_total')?.samples).toEqual([
      { labels: { ...alphaLabels, reason: 'invalid_exact_evm_payload_signature' }, value: 2 },
    ]);
  });

  it('refuses a malformed batch whole and changes nothing', async () => {
    const before = await store.read();
    const bad = [
      delta('obol_x402_verifier_requests_total', alphaLabels, 100),
      { metric: 'obol_x402_verifier_requests_total', labels: alphaLabels, reason: '', value: -1 },
    ];
    // Miniflare's proxy turns a Durable Object's error into its own AssertionError: only the refusal is visible here.
    await expect(store.add(bad)).rejects.toThrow();
    await expect(store.add([{ ...delta('obol_x402_verifier_requests_total', alphaLabels, 1), metric: 'made_up_total' }])).rejects.toThrow();
    await expect(store.add('not a batch')).rejects.toThrow();
    await expect(store.read([{ offer_name: 'alpha' }])).rejects.toThrow();
    expect(await store.read()).toEqual(before);
  });

  it('caps distinct failure reasons per offer and counts the rest as "other"', async () => {
    const batch = Array.from({ length: 70 }, (_, i) => delta('obol_x402_verifier_payment_failure_reasons_total', betaLabels, 1, `reason_${i}`));
    await store.add(batch);
    await store.add([delta('obol_x402_verifier_payment_failure_reasons_total', betaLabels, 1, 'reason_0')]);
    const reasons = (await store.read()).filter((s) => s.metric === 'obol_x402_verifier_payment_failure_reasons_total' && s.labels.offer_name === 'beta');
    expect(reasons.filter((s) => s.reason !== 'other')).toHaveLength(64);
    expect(reasons.find((s) => s.reason === 'reason_0')?.value).toBe(2);
    expect(reasons.find((s) => s.reason === 'other')?.value).toBe(6);
  });

  it('drops the series of an offer removed from the snapshot, for good', async () => {
    expect((await pushSnapshot(edge, makeSnapshot({ offers: [alpha], sequence: 2 }))).status).toBe(200);
    const families = await scrapeFamilies(edge);
    const names = [...families.values()].flatMap((f) => f.samples.map((s) => s.labels['offer_name']));
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(['alpha']));
    expect((await store.read()).some((s) => s.labels.offer_name === 'beta')).toBe(false);
  });
});
