import { describe, expect, it } from 'vitest';
import { makeBuyerFetch } from '../../stack/buyer.js';
import { LOCAL_ACCOUNTS } from '../../stack/chain.js';
import { assertMoneyReconciles, errorOf, useDrillStack } from './support.js';

/** Drill: the facilitator stops mid-run and comes back on the same address. */
const drill = useDrillStack({ payers: 2 });
const PRICE = 1000n;


describe('facilitator stopped mid-run', () => {
  it('pays normally with the official client while the facilitator is up', async () => {
    const pay = makeBuyerFetch({ privateKey: LOCAL_ACCOUNTS.buyer.privateKey, version: 2 });
    for (let i = 0; i < 3; i++) {
      const res = await pay(`${drill.stack.edge.url}${drill.stack.offer.path}/v1/chat`);
      expect(res.status).toBe(200);
      drill.stack.ledger.record(res, LOCAL_ACCOUNTS.buyer.address);
      await res.arrayBuffer();
    }
    expect(drill.stack.ledger.total()).toBe(3);
  }, 20_000);

  it('answers 503 facilitator_unreachable while it is down, never reaching the origin, and the same authorization pays once it is back', async () => {
    const payer = drill.stack.payers[1]!;
    const headers = await drill.stack.sign(payer);
    await drill.stack.stopFacilitator();
    const hitsBefore = drill.stack.origin.hits.length;
    for (let i = 0; i < 3; i++) {
      const res = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
      expect(res.status).toBe(503);
      expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    }
    expect(drill.stack.origin.hits.length).toBe(hitsBefore);
    await drill.stack.startFacilitator();
    // An unreachable /verify released the claim (SPEC §5 table), so the buyer's signature still works.
    const ok = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(ok.status).toBe(200);
    const replay = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(drill.stack.origin.hits.length).toBe(hitsBefore + 1);
  }, 20_000);

  it('stopped between verify and settle: the body is withheld (503 settlement_unknown) and the authorization is never forwarded again', async () => {
    const payer = drill.stack.payers[1]!;
    const headers = await drill.stack.sign(payer);
    drill.stack.origin.mode = { kind: 'slow', ms: 600 };
    const seen = drill.stack.origin.hits.length;
    const pending = drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    // The origin got the request, so /verify has passed; now take the facilitator away drill.before /settle.
    await waitUntil(() => drill.stack.origin.hits.length > seen, 3000);
    await drill.stack.stopFacilitator();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'settlement_unknown' });
    drill.stack.origin.mode = { kind: 'echo' };
    const hits = drill.stack.origin.hits.length;
    const again = await drill.stack.paidGet(drill.stack.offer.path, headers, payer.address);
    expect(again.status).toBe(503);
    expect(await errorOf(again)).toMatchObject({ error: 'settlement_unknown' });
    expect(drill.stack.origin.hits.length).toBe(hits);
    await drill.stack.startFacilitator();
  }, 20_000);

  it('reconciles: every delivered response settled once; the withheld one is never charged (the ledger reads the chain, it does not re-settle)', async () => {
    const settledBefore = drill.stack.settlements();
    const requestsBefore = drill.stack.facilitator.stats.settleRequests;
    // The ledger's alarm checks the pending authorization at 1 s, 3 s, …: give it two rounds.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(drill.stack.facilitator.stats.settleRequests).toBe(requestsBefore);
    expect(drill.stack.settlements()).toBe(settledBefore);
    assertMoneyReconciles({
      deliveredByPayer: drill.stack.ledger.deliveredByPayer, price: PRICE, balancesBefore: drill.before, balancesAfter: await drill.stack.balances(),
      settlements: drill.stack.settlements(),
    });
  }, 20_000);
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
