import { getAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNTS } from '../../stack/chain.js';
import { decodeChallengeHeader } from '../support/gate.js';
import { paymentHeaders, signPayment } from '../support/payments.js';
import { makeSnapshot, pushSnapshot, sampleOffer, TEST_KEYS } from '../support/snapshots.js';
import { assertMoneyReconciles, startDrillStack, type DrillStack } from './support.js';

/**
 * Drill: an attacker pushes a forged snapshot (their own key) and a genuinely signed but older one
 * (a rollback), each redirecting payments; the edge keeps serving and charging the catalog it had.
 */
let s: DrillStack;
let before: Map<`0x${string}`, bigint>;
let sequence: number;
const PRICE = 1000n;
// Anvil's account #4: an address nobody in the drill pays on purpose.
const ATTACKER = getAddress('0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65');
const redirected = () => sampleOffer({ name: 'drill', spec: { payment: { network: 'base-sepolia', payTo: ATTACKER, price: { perRequest: '0.0001' } } } });

async function status(): Promise<{ sequence: number; issuedAt: string }> {
  return (await (await s.edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number; issuedAt: string };
}

async function expectOriginalDeal(): Promise<void> {
  const challenge = decodeChallengeHeader(await s.edge.fetch(s.offer.path));
  expect(challenge.accepts[0]).toMatchObject({ payTo: getAddress(LOCAL_ACCOUNTS.seller.address), amount: '1000' });
}

beforeAll(async () => {
  s = await startDrillStack({ payers: 2 });
  before = await s.balances();
  sequence = (await status()).sequence;
}, 30_000);
afterAll(async () => { await s?.dispose(); }, 15_000);

describe('forged and rolled-back snapshots', () => {
  it('refuses a snapshot signed by an unknown key with 401 and changes nothing', async () => {
    const forged = makeSnapshot({ offers: [redirected()], sequence: sequence + 1000 });
    const res = await pushSnapshot(s.edge, forged, { key: TEST_KEYS.stranger });
    expect(res.status).toBe(401);
    // A valid signature over different bytes is a forgery too.
    const tampered = await pushSnapshot(s.edge, makeSnapshot({ offers: [redirected()], sequence: sequence + 1001 }), {
      signature: (await (await s.edge.fetch('/_obol/v1/catalog')).headers.get('Obol-Signature')) ?? '',
    });
    expect(tampered.status).toBe(401);
    expect((await status()).sequence).toBe(sequence);
    await expectOriginalDeal();
  }, 20_000);

  it('refuses a genuinely signed older snapshot (rollback) and a same-sequence rewrite with 409 and changes nothing', async () => {
    const older = await pushSnapshot(s.edge, makeSnapshot({ offers: [redirected()], sequence: sequence - 1 }));
    expect(older.status).toBe(409);
    const rewrite = await pushSnapshot(s.edge, makeSnapshot({ offers: [redirected()], sequence }));
    expect(rewrite.status).toBe(409);
    expect((await status()).sequence).toBe(sequence);
    await expectOriginalDeal();
  }, 20_000);

  it('payments made after the attacks go to the seller at the original price; the attacker gets nothing', async () => {
    for (const payer of s.payers) {
      const res = await s.paidGet(s.offer.path, await s.sign(payer), payer.address);
      expect(res.status).toBe(200);
    }
    // A payment signed for the attacker's deal is refused before any network call.
    const hits = s.origin.hits.length;
    const forgedDeal = redirected().requirement;
    if (!forgedDeal) throw new Error('redirected offer has no requirement');
    const payer = s.payers[0]!;
    const wrong = paymentHeaders(await signPayment({ requirement: forgedDeal, version: 2, account: payer }));
    const refused = await s.paidGet(s.offer.path, wrong, payer.address);
    expect(refused.status).toBe(402);
    expect(s.origin.hits.length).toBe(hits);
    expect(await s.chain.balanceOf(ATTACKER)).toBe(0n);
    assertMoneyReconciles({ deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(), settlements: s.settlements() });
  }, 20_000);
});
