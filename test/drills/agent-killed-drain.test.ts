import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatHttpDate, formatRfc3339 } from '../../core/time.js';
import { PaymentRequirement } from '../../core/requirement.js';
import { startAgent, type RunningAgent } from '../../cluster-agent/src/agent/agent.js';
import { memoryLogger, offerManifest, testAgentConfig, testSigner, waitFor } from '../../cluster-agent/test/agent/support.js';
import { LOCAL_ACCOUNTS } from '../../stack/chain.js';
import { paymentHeaders, signPayment } from '../support/payments.js';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/**
 * Drill: the real agent (dir source) publishes an offer that is draining, then is killed; the edge
 * keeps charging until `drainEndsAt` and answers 410 after it by its own clock, with no new push.
 */
const PRICE = 1000n;
const GRACE_S = 6;
const signer = testSigner();
let s: DrillStack;
let agent: RunningAgent | undefined;
let dir: string;
let before: Map<`0x${string}`, bigint>;
let drainEndsAtMs: number;
let requirement: PaymentRequirement;
let sequence: number;

const offerHits = () => s.origin.hits.filter((h) => h.url.startsWith('/services/drill')).length;

async function pay(payerIndex: number): Promise<Response> {
  const payer = s.payers[payerIndex]!;
  const payment = await signPayment({ requirement, version: 2, account: payer, resourceUrl: 'https://edge.test/services/drill' });
  return s.paidGet('/services/drill', paymentHeaders(payment), payer.address);
}

beforeAll(async () => {
  s = await startDrillStack({ payers: 2, push: false, catalogSigners: signer.address });
  before = await s.balances();
  dir = mkdtempSync(join(tmpdir(), 'obol-drill-offers-'));
  const drainAt = formatRfc3339(Date.now());
  drainEndsAtMs = Date.parse(drainAt) + GRACE_S * 1000;
  const manifest = offerManifest('drill', s.origin.url, {
    path: '/services/drill', drainAt, drainGracePeriod: `${GRACE_S}s`,
    payment: { network: 'base-sepolia', payTo: LOCAL_ACCOUNTS.seller.address, price: { perRequest: '0.001' } },
  });
  writeFileSync(join(dir, 'drill.yaml'), stringify(manifest));
  agent = await startAgent(testAgentConfig({ source: { kind: 'dir', dir }, edgeUrl: s.edge.url, signer, log: memoryLogger().log }));
  await agent.ready;
}, 30_000);
afterAll(async () => {
  await agent?.stop();
  await s?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 15_000);

describe('agent killed while an offer drains', () => {
  it('the agent publishes the draining offer, then is stopped without another push', async () => {
    const stored = await waitFor('the draining offer at the edge', async () => {
      const res = await s.edge.fetch('/_obol/v1/catalog');
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { sequence: number; offers: Array<{ drainEndsAt?: string; requirement?: unknown }> };
      return body.offers[0]?.drainEndsAt !== undefined ? body : undefined;
    }, 5000);
    requirement = PaymentRequirement.parse(stored.offers[0]!.requirement);
    await agent!.stop();
    agent = undefined;
    sequence = ((await (await s.edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number }).sequence;
    expect(sequence).toBe(stored.sequence);
    expect(Date.now()).toBeLessThan(drainEndsAtMs - 1000);
  }, 20_000);

  it('while draining, paid requests are delivered with the Sunset header of drainEndsAt', async () => {
    for (const i of [0, 1]) {
      const res = await pay(i);
      expect(res.status).toBe(200);
      expect(res.headers.get('Sunset')).toBe(formatHttpDate(drainEndsAtMs));
    }
  }, 20_000);

  it('after drainEndsAt the edge answers 410 offer_drained on its own clock: no push, no origin, no settlement', async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, drainEndsAtMs - Date.now() + 200)));
    const hits = offerHits();
    const settled = s.settlements();
    const res = await pay(0);
    expect(res.status).toBe(410);
    expect(await errorOf(res)).toMatchObject({ error: 'offer_drained' });
    expect(offerHits()).toBe(hits);
    expect(s.settlements()).toBe(settled);
    const services = (await (await s.edge.fetch('/api/services.json')).json()) as { services: unknown[] };
    expect(services.services).toEqual([]);
    const status = (await (await s.edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number };
    expect(status.sequence).toBe(sequence);
  }, 20_000);

  it('reconciles: the payers paid exactly for the responses delivered during the drain', async () => {
    expect(s.ledger.total()).toBe(2);
    assertMoneyReconciles({ deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(), settlements: s.settlements() });
  }, 20_000);
});
