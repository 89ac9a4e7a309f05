import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/gate.js';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/**
 * Drill: the chain stops answering (anvil frozen with SIGSTOP, state kept) and comes back; then
 * the chain dies for good. FACILITATOR_TIMEOUT_MS is 1.5 s here.
 */
let s: DrillStack;
let before: Map<`0x${string}`, bigint>;
let suspended = false;
const PRICE = 1000n;

beforeAll(async () => {
  s = await startDrillStack({ payers: 2 });
  before = await s.balances();
}, 30_000);
afterAll(async () => {
  if (suspended) s?.chain.resume();
  await s?.dispose();
}, 15_000);

describe('chain stopped', () => {
  it('pays normally while the chain answers', async () => {
    const payer = s.payers[0]!;
    const res = await s.paidGet(s.offer.path, await s.sign(payer), payer.address);
    expect(res.status).toBe(200);
  }, 20_000);

  it('while the chain is frozen: 503 facilitator_unreachable, the origin is never reached, and the same authorization pays once the chain is back', async () => {
    const payer = s.payers[1]!;
    const headers = await s.sign(payer);
    const hits = s.origin.hits.length;
    s.chain.suspend();
    suspended = true;
    const res = await s.paidGet(s.offer.path, headers, payer.address);
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    expect(s.origin.hits.length).toBe(hits);
    s.chain.resume();
    suspended = false;
    const ok = await s.paidGet(s.offer.path, headers, payer.address);
    expect(ok.status).toBe(200);
    expect(s.origin.hits.length).toBe(hits + 1);
  }, 20_000);

  it('frozen between verify and settle: 503 settlement_unknown, body withheld; after the thaw the transfer happens once and the ledger records it from the chain, without a second /settle', async () => {
    const payer = s.payers[0]!;
    const headers = await s.sign(payer);
    const seen = s.origin.hits.length;
    const { settleRequests, settleSucceeded, settleFailed } = s.facilitator.stats;
    s.origin.mode = { kind: 'slow', ms: 400 };
    const pending = s.paidGet(s.offer.path, headers, payer.address);
    await eventually(() => s.origin.hits.length > seen, 3000);
    s.chain.suspend();
    suspended = true;
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'settlement_unknown' });
    s.origin.mode = { kind: 'echo' };
    s.chain.resume();
    suspended = false;
    // The in-flight settle completes on the thawed chain; the ledger learns it from authorizationState.
    const answered = () => s.facilitator.stats.settleSucceeded + s.facilitator.stats.settleFailed;
    await eventually(() => answered() >= settleSucceeded + settleFailed + 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // Exactly one /settle ever: the ledger never asks the facilitator to settle a pending payment again.
    expect(s.facilitator.stats.settleRequests).toBe(settleRequests + 1);
    expect(s.facilitator.stats.settleSucceeded).toBe(settleSucceeded + 1);
    expect(s.facilitator.stats.settleFailed).toBe(settleFailed);
    const replay = await s.paidGet(s.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(s.origin.hits.length).toBe(seen + 1);
  }, 30_000);

  it('reconciles: each delivered response paid once; the withheld one was charged exactly once, by the settle whose answer was lost', async () => {
    expect(s.ledger.total()).toBe(2);
    assertMoneyReconciles({
      deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(),
      settlements: s.settlements(), chargedUndelivered: new Map([[s.payers[0]!.address, 1]]),
    });
  }, 20_000);

  it('with the chain gone for good nothing is delivered: 503, the origin is never reached, nothing settles', async () => {
    const payer = s.payers[0]!;
    const headers = await s.sign(payer);
    const hits = s.origin.hits.length;
    const settled = s.settlements();
    await s.chain.stop();
    const res = await s.paidGet(s.offer.path, headers, payer.address);
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    expect(s.origin.hits.length).toBe(hits);
    expect(s.settlements()).toBe(settled);
    expect(s.ledger.total()).toBe(2);
  }, 20_000);
});
