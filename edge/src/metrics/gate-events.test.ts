import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startGateFixture, type GateFixture } from '../../../test/support/gate.js';
import { OTHER_KEY } from '../../../test/support/payments.js';
import { parseExposition, type MetricFamily } from '../../../test/support/exposition-parser.js';

/**
 * The gate's decisions show up in GET /_obol/v1/metrics within a few seconds: events counted per
 * isolate, flushed in the background to the MetricsStore, exposed per offer (SPEC §8).
 */
const TOKEN = 'gate-events-metrics-token';
let fx: GateFixture;

beforeAll(async () => {
  fx = await startGateFixture({ METRICS_TOKEN: TOKEN });
});
afterAll(async () => {
  await fx.dispose();
});

async function families(): Promise<Map<string, MetricFamily>> {
  const res = await fx.edge.fetch('/_obol/v1/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

function value(all: Map<string, MetricFamily>, metric: string, offer: string, reason?: string): number {
  const sample = all.get(metric)?.samples.find((s) => s.labels['offer_name'] === offer && s.labels['reason'] === reason);
  return sample?.value ?? 0;
}

/** Wait (bounded, 5 s) until the scrape shows exactly these values for the `echo` offer. */
async function expectEcho(expected: Record<string, number>, reason?: { reason: string; count: number }): Promise<Map<string, MetricFamily>> {
  let last = new Map<string, MetricFamily>();
  const matches = (all: Map<string, MetricFamily>) =>
    Object.entries(expected).every(([metric, n]) => value(all, metric, 'echo') === n) &&
    (!reason || value(all, 'obol_x402_verifier_payment_failure_reasons_total', 'echo', reason.reason) === reason.count);
  await eventually(async () => matches((last = await families())), 5000, 200).catch(() => undefined);
  expect(Object.fromEntries(Object.keys(expected).map((m) => [m, value(last, m, 'echo')]))).toEqual(expected);
  if (reason) expect(value(last, 'obol_x402_verifier_payment_failure_reasons_total', 'echo', reason.reason)).toBe(reason.count);
  return last;
}

it('counts unpaid requests and their 402 challenges per offer, with the offer\'s chain and asset labels', async () => {
  for (let i = 0; i < 3; i++) expect((await fx.edge.fetch('/services/echo/v1/chat')).status).toBe(402);
  const all = await expectEcho({ obol_x402_verifier_requests_total: 3, obol_x402_verifier_payment_required_total: 3 });
  const sample = all.get('obol_x402_verifier_requests_total')?.samples.find((s) => s.labels['offer_name'] === 'echo');
  expect(sample?.labels).toEqual({ offer_namespace: 'llm', offer_name: 'echo', chain: 'eip155:84532', asset_symbol: 'USDC' });
  expect(value(all, 'obol_x402_verifier_requests_total', 'sunset')).toBe(0);
});

it('counts a malformed payment header as a failure with its reason', async () => {
  const res = await fx.edge.fetch('/services/echo', { headers: { 'PAYMENT-SIGNATURE': '%%% not base64 %%%' } });
  expect(res.status).toBe(400);
  await expectEcho(
    { obol_x402_verifier_requests_total: 4, obol_x402_verifier_payment_failed_total: 1 },
    { reason: 'invalid_payment_header', count: 1 },
  );
});

it('counts a forged signature as a failure under the gate\'s x402 reason', async () => {
  const { headers } = await fx.pay({ signer: OTHER_KEY });
  const res = await fx.edge.fetch('/services/echo', { headers });
  expect(res.status).toBe(402);
  const reason = (await res.json() as { error: string }).error;
  await expectEcho({ obol_x402_verifier_payment_failed_total: 2 }, { reason, count: 1 });
});

it('counts a settled request as verified and charged and sets the last-success gauge', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { headers } = await fx.pay();
  const res = await fx.edge.fetch('/services/echo', { headers });
  expect(res.status).toBe(200);
  const all = await expectEcho({
    obol_x402_verifier_requests_total: 6,
    obol_x402_verifier_payment_verified_total: 1,
    obol_x402_verifier_charged_requests_total: 1,
  });
  const last = value(all, 'obol_x402_verifier_last_payment_success_seconds', 'echo');
  expect(last).toBeGreaterThanOrEqual(before);
  expect(last).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
});
