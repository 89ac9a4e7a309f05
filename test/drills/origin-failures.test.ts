import { describe, expect, it } from 'vitest';
import { assertMoneyReconciles, errorOf, useDrillStack } from './support.js';

/** Drill: the seller's origin answers 5xx, or hangs past ORIGIN_TIMEOUT_MS (1.5 s here). */
const drill = useDrillStack({ payers: 2 });
const PRICE = 1000n;


describe('origin failures', () => {
  it('origin 5xx: the 500 is passed through, nothing is settled, and the authorization is spent', async () => {
    const payer = drill.stack.payers[0]!;
    const headers = await drill.stack.sign(payer);
    drill.stack.origin.mode = { kind: 'status', status: 500, body: '{"origin":"broken"}' };
    const res = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ origin: 'broken' });
    expect(res.headers.get('PAYMENT-RESPONSE')).toBeNull();
    drill.stack.origin.mode = { kind: 'echo' };
    // SPEC §5: it reached the origin, so it is consumed; the buyer must sign a new one.
    const replay = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(drill.stack.origin.hits).toHaveLength(1);
    expect(drill.stack.facilitator.stats.settleRequests).toBe(0);
  }, 20_000);

  it('origin hanging: 504 origin_timeout after ORIGIN_TIMEOUT_MS, nothing is settled, and the authorization is spent', async () => {
    const payer = drill.stack.payers[1]!;
    const headers = await drill.stack.sign(payer);
    drill.stack.origin.mode = { kind: 'slow', ms: 4000 };
    const started = Date.now();
    const res = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    const took = Date.now() - started;
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ error: 'origin_timeout' });
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(3500);
    drill.stack.origin.mode = { kind: 'echo' };
    const replay = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(drill.stack.facilitator.stats.settleRequests).toBe(0);
  }, 20_000);

  it('after the origin recovers, fresh authorizations pay, and money matches the delivered responses exactly', async () => {
    for (const payer of drill.stack.payers) {
      const res = await drill.stack.paidGet(drill.stack.offer.path, await drill.stack.sign(payer), payer.address);
      expect(res.status).toBe(200);
    }
    expect(drill.stack.ledger.total()).toBe(2);
    assertMoneyReconciles({ deliveredByPayer: drill.stack.ledger.deliveredByPayer, price: PRICE, balancesBefore: drill.before, balancesAfter: await drill.stack.balances(), settlements: drill.stack.settlements() });
  }, 20_000);
});
