import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/** Drill: the seller's origin answers 5xx, or hangs past ORIGIN_TIMEOUT_MS (1.5 s here). */
let s: DrillStack;
let before: Map<`0x${string}`, bigint>;
const PRICE = 1000n;

beforeAll(async () => {
  s = await startDrillStack({ payers: 2 });
  before = await s.balances();
}, 30_000);
afterAll(async () => { await s?.dispose(); }, 15_000);

describe('origin failures', () => {
  it('origin 5xx: the 500 is passed through, nothing is settled, and the authorization is spent', async () => {
    const payer = s.payers[0]!;
    const headers = await s.sign(payer);
    s.origin.mode = { kind: 'status', status: 500, body: '{"origin":"broken"}' };
    const res = await s.paidGet(s.offer.path, headers, payer.address);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ origin: 'broken' });
    expect(res.headers.get('PAYMENT-RESPONSE')).toBeNull();
    s.origin.mode = { kind: 'echo' };
    // SPEC §5: it reached the origin, so it is consumed; the buyer must sign a new one.
    const replay = await s.paidGet(s.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(s.origin.hits).toHaveLength(1);
    expect(s.facilitator.stats.settleRequests).toBe(0);
  }, 20_000);

  it('origin hanging: 504 origin_timeout after ORIGIN_TIMEOUT_MS, nothing is settled, and the authorization is spent', async () => {
    const payer = s.payers[1]!;
    const headers = await s.sign(payer);
    s.origin.mode = { kind: 'slow', ms: 4000 };
    const started = Date.now();
    const res = await s.paidGet(s.offer.path, headers, payer.address);
    const took = Date.now() - started;
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ error: 'origin_timeout' });
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(3500);
    s.origin.mode = { kind: 'echo' };
    const replay = await s.paidGet(s.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(s.facilitator.stats.settleRequests).toBe(0);
  }, 20_000);

  it('after the origin recovers, fresh authorizations pay, and money matches the delivered responses exactly', async () => {
    for (const payer of s.payers) {
      const res = await s.paidGet(s.offer.path, await s.sign(payer), payer.address);
      expect(res.status).toBe(200);
    }
    expect(s.ledger.total()).toBe(2);
    assertMoneyReconciles({ deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(), settlements: s.settlements() });
  }, 20_000);
});
