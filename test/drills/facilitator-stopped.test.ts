import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBuyerFetch } from '../../stack/buyer.js';
import { LOCAL_ACCOUNTS } from '../../stack/chain.js';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/** Drill: the facilitator stops mid-run and comes back on the same address. */
let s: DrillStack;
let before: Map<`0x${string}`, bigint>;
const PRICE = 1000n;

beforeAll(async () => {
  s = await startDrillStack({ payers: 2 });
  before = await s.balances();
}, 30_000);
afterAll(async () => { await s?.dispose(); }, 15_000);

describe('facilitator stopped mid-run', () => {
  it('pays normally with the official client while the facilitator is up', async () => {
    const pay = makeBuyerFetch({ privateKey: LOCAL_ACCOUNTS.buyer.privateKey, version: 2 });
    for (let i = 0; i < 3; i++) {
      const res = await pay(`${s.edge.url}${s.offer.path}/v1/chat`);
      expect(res.status).toBe(200);
      s.ledger.record(res, LOCAL_ACCOUNTS.buyer.address);
      await res.arrayBuffer();
    }
    expect(s.ledger.total()).toBe(3);
  }, 20_000);

  it('answers 503 facilitator_unreachable while it is down, never reaching the origin, and the same authorization pays once it is back', async () => {
    const payer = s.payers[1]!;
    const headers = await s.sign(payer);
    await s.stopFacilitator();
    const hitsBefore = s.origin.hits.length;
    for (let i = 0; i < 3; i++) {
      const res = await s.paidGet(s.offer.path, headers, payer.address);
      expect(res.status).toBe(503);
      expect(await errorOf(res)).toMatchObject({ error: 'facilitator_unreachable' });
    }
    expect(s.origin.hits.length).toBe(hitsBefore);
    await s.startFacilitator();
    // An unreachable /verify released the claim (SPEC §5 table), so the buyer's signature still works.
    const ok = await s.paidGet(s.offer.path, headers, payer.address);
    expect(ok.status).toBe(200);
    const replay = await s.paidGet(s.offer.path, headers, payer.address);
    expect(replay.status).toBe(402);
    expect(await errorOf(replay)).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
    expect(s.origin.hits.length).toBe(hitsBefore + 1);
  }, 20_000);

  it('stopped between verify and settle: the body is withheld (503 settlement_unknown) and the authorization is never forwarded again', async () => {
    const payer = s.payers[1]!;
    const headers = await s.sign(payer);
    s.origin.mode = { kind: 'slow', ms: 600 };
    const seen = s.origin.hits.length;
    const pending = s.paidGet(s.offer.path, headers, payer.address);
    // The origin got the request, so /verify has passed; now take the facilitator away before /settle.
    await waitUntil(() => s.origin.hits.length > seen, 3000);
    await s.stopFacilitator();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ error: 'settlement_unknown' });
    s.origin.mode = { kind: 'echo' };
    const hits = s.origin.hits.length;
    const again = await s.paidGet(s.offer.path, headers, payer.address);
    expect(again.status).toBe(503);
    expect(await errorOf(again)).toMatchObject({ error: 'settlement_unknown' });
    expect(s.origin.hits.length).toBe(hits);
    await s.startFacilitator();
  }, 20_000);

  it('reconciles: every delivered response settled once; the withheld one is never charged (the ledger reads the chain, it does not re-settle)', async () => {
    const settledBefore = s.settlements();
    const requestsBefore = s.facilitator.stats.settleRequests;
    // The ledger's alarm checks the pending authorization at 1 s, 3 s, …: give it two rounds.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(s.facilitator.stats.settleRequests).toBe(requestsBefore);
    expect(s.settlements()).toBe(settledBefore);
    assertMoneyReconciles({
      deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(),
      settlements: s.settlements(),
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
