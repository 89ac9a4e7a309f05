import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/gate.js';
import { assertMoneyReconciles, errorOf, useDrillStack } from './support.js';

/**
 * Drill: the chain stops answering (anvil frozen with SIGSTOP, state kept) and comes back; then
 * the chain dies for good. FACILITATOR_TIMEOUT_MS and FACILITATOR_SETTLE_TIMEOUT_MS are 1.5 s here.
 */
const drill = useDrillStack({ payers: 2 });
let suspended = false;
const PRICE = 1000n;

// Registered after the fixture, so it runs first: a frozen anvil is thawed drill.before the stack stops.
afterAll(() => { if (suspended) drill.stack.chain.resume(); });

describe('chain stopped', () => {
  it('pays normally while the chain answers', async () => {
    const payer = drill.stack.payers[0]!;
    const res = await drill.stack.paidGet(drill.stack.offer.path, await drill.stack.sign(payer), payer.address);
    expect(res.status).toBe(200);
  }, 20_000);

  it('while the chain is frozen: 503 facilitator_unreachable, the origin is never reached, and the same authorization pays once the chain is back', async () => {
    const payer = drill.stack.payers[1]!;
    const headers = await drill.stack.sign(payer);
    const hits = drill.stack.origin.hits.length;
    drill.stack.chain.suspend();
    suspended = true;
    const res = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    expect(drill.stack.origin.hits.length).toBe(hits);
    drill.stack.chain.resume();
    suspended = false;
    const ok = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(ok.status).toBe(200);
    expect(drill.stack.origin.hits.length).toBe(hits + 1);
  }, 20_000);

  it('frozen between verify and settle: 503 settlement_unknown, body withheld; after the thaw the transfer happens once and the ledger records it from the chain, without a second /settle', async () => {
    const payer = drill.stack.payers[0]!;
    const headers = await drill.stack.sign(payer);
    const seen = drill.stack.origin.hits.length;
    const { settleRequests, settleSucceeded, settleFailed } = drill.stack.facilitator.stats;
    drill.stack.origin.mode = { kind: 'slow', ms: 400 };
    const pending = drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    await eventually(() => drill.stack.origin.hits.length > seen, 3000);
    drill.stack.chain.suspend();
    suspended = true;
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'settlement_unknown' });
    drill.stack.origin.mode = { kind: 'echo' };
    drill.stack.chain.resume();
    suspended = false;
    // The in-flight settle completes on the thawed chain; the ledger learns it from authorizationState.
    const answered = () => drill.stack.facilitator.stats.settleSucceeded + drill.stack.facilitator.stats.settleFailed;
    await eventually(() => answered() >= settleSucceeded + settleFailed + 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // Exactly one /settle ever: the ledger never asks the facilitator to settle a pending payment again.
    expect(drill.stack.facilitator.stats.settleRequests).toBe(settleRequests + 1);
    expect(drill.stack.facilitator.stats.settleSucceeded).toBe(settleSucceeded + 1);
    expect(drill.stack.facilitator.stats.settleFailed).toBe(settleFailed);
    const replay = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(drill.stack.origin.hits.length).toBe(seen + 1);
  }, 30_000);

  it('reconciles: each delivered response paid once; the withheld one was charged exactly once, by the settle whose answer was lost', async () => {
    expect(drill.stack.ledger.total()).toBe(2);
    assertMoneyReconciles({
      deliveredByPayer: drill.stack.ledger.deliveredByPayer, price: PRICE, balancesBefore: drill.before, balancesAfter: await drill.stack.balances(),
      settlements: drill.stack.settlements(), chargedUndelivered: new Map([[drill.stack.payers[0]!.address, 1]]),
    });
  }, 20_000);

  it('with the chain gone for good nothing is delivered: 503, the origin is never reached, nothing settles', async () => {
    const payer = drill.stack.payers[0]!;
    const headers = await drill.stack.sign(payer);
    const hits = drill.stack.origin.hits.length;
    const settled = drill.stack.settlements();
    await drill.stack.chain.stop();
    const res = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    expect(drill.stack.origin.hits.length).toBe(hits);
    expect(drill.stack.settlements()).toBe(settled);
    expect(drill.stack.ledger.total()).toBe(2);
  }, 20_000);
});
