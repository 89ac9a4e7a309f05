import { expect } from 'vitest';
import { formatRfc3339 } from '../../core/time.js';
import type { PaymentRequirement } from '../../core/requirement.js';
import type { SnapshotOffer } from '../../core/snapshot.js';
import { decodeBase64Json } from '../../core/x402/base64-json.js';
import { startEdge, type TestEdge } from './edge.js';
import { startFakeFacilitator, type FakeFacilitator } from './fake-facilitator.js';
import { startOrigin, type TestOrigin } from './origin.js';
import { paymentHeaders, signPayment, type SignOptions } from './payments.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from './snapshots.js';

/**
 * A real edge (workerd via Miniflare) with its own fake facilitator and origin, and a snapshot of
 * offers covering every route state: `echo` (active), `echo/deep` (nested, dearer), `sunset`
 * (draining), `gone` (drained), `sick` (unhealthy).
 */
export interface GateFixture {
  edge: TestEdge;
  facilitator: FakeFacilitator;
  origin: TestOrigin;
  offers: Record<'echo' | 'deep' | 'sunset' | 'gone' | 'sick', SnapshotOffer>;
  requirement: PaymentRequirement;
  /** Sign a payment for `echo` (or `options.requirement`) and return it with its request header. */
  pay(options?: Partial<SignOptions>): Promise<{ payment: Awaited<ReturnType<typeof signPayment>>; headers: Record<string, string> }>;
  /** The origin and the facilitator saw nothing since the last reset. */
  expectUntouched(): void;
  reset(): void;
  dispose(): Promise<void>;
}

export function fixtureOffers(nowMs: number): GateFixture['offers'] {
  const minuteAgo = formatRfc3339(nowMs - 60_000);
  return {
    echo: sampleOffer({ name: 'echo' }),
    deep: sampleOffer({ name: 'echo-deep', spec: { path: '/services/echo/deep', payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '0.002' } } } }),
    sunset: sampleOffer({ name: 'sunset', spec: { drainAt: minuteAgo, drainGracePeriod: '1h' } }),
    gone: sampleOffer({ name: 'gone', spec: { drainAt: minuteAgo, drainGracePeriod: '0s' } }),
    sick: sampleOffer({ name: 'sick', upstreamHealthy: false }),
  };
}

export async function startGateFixture(vars: Record<string, string> = {}, extraOffers: SnapshotOffer[] = []): Promise<GateFixture> {
  const facilitator = await startFakeFacilitator();
  const origin = await startOrigin();
  const edge = await startEdge({
    vars: {
      ...signerVars(),
      FACILITATOR_URL: facilitator.url,
      ORIGIN_URL: origin.url,
      ORIGIN_TIMEOUT_MS: '1000',
      FACILITATOR_TIMEOUT_MS: '1000',
      ...vars,
    },
  });
  const offers = fixtureOffers(Date.now());
  const pushed = await pushSnapshot(edge, makeSnapshot({ offers: [...Object.values(offers), ...extraOffers], sequence: Date.now() }));
  if (pushed.status !== 200) throw new Error(`snapshot push failed: ${pushed.status} ${await pushed.text()}`);
  const requirement = offers.echo.requirement;
  if (!requirement) throw new Error('echo offer has no requirement');
  return {
    edge, facilitator, origin, offers, requirement,
    async pay(options = {}) {
      const payment = await signPayment({ requirement, version: 2, resourceUrl: 'https://edge.test/services/echo', ...options });
      return { payment, headers: paymentHeaders(payment) };
    },
    expectUntouched() {
      expect(origin.hits).toEqual([]);
      expect(facilitator.calls).toEqual([]);
    },
    reset() {
      origin.reset();
      facilitator.reset();
    },
    async dispose() {
      await edge.dispose();
      await origin.close();
      await facilitator.close();
    },
  };
}

/** The v2 challenge a 402 carries in PAYMENT-REQUIRED. */
export function decodeChallengeHeader(res: Response): { x402Version: number; error: string; resource: { url: string }; accepts: Array<Record<string, unknown>> } {
  const header = res.headers.get('PAYMENT-REQUIRED');
  if (!header) throw new Error('no PAYMENT-REQUIRED header');
  return decodeBase64Json(header) as ReturnType<typeof decodeChallengeHeader>;
}

export function decodeReceipt(res: Response, name: 'PAYMENT-RESPONSE' | 'X-PAYMENT-RESPONSE'): Record<string, unknown> {
  const header = res.headers.get(name);
  if (!header) throw new Error(`no ${name} header`);
  return decodeBase64Json(header) as Record<string, unknown>;
}

/** Poll until `check` holds (bounded); for background work such as the ledger's alarm. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 8000, stepMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** The edge's /metrics text once it counts a charge for `labels` (metrics are flushed in the background). */
export async function metricsOnceCharged(edge: TestEdge, labels: string, token = 'metrics-token'): Promise<string> {
  let text = '';
  await eventually(async () => {
    const res = await edge.fetch('/_obol/v1/metrics', { headers: { Authorization: `Bearer ${token}` } });
    text = await res.text();
    return res.status === 200 && text.includes(`obol_x402_verifier_charged_requests_total{${labels}}`);
  });
  return text;
}
