import type { PrivateKeyAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMoneyReconciles, errorOf, startDrillStack, type DrillStack } from './support.js';

/** Drill: 100 concurrent buyers replaying 10 signed authorizations (10 each, v1 and v2 envelopes mixed). */
let s: DrillStack;
const PRICE = 1000n;

beforeAll(async () => {
  // Ten settlements queue behind one settling key: give /settle room beyond one round trip.
  s = await startDrillStack({ payers: 5, edgeVars: { FACILITATOR_TIMEOUT_MS: '8000', FACILITATOR_SETTLE_TIMEOUT_MS: '8000' } });
}, 30_000);
afterAll(async () => { await s?.dispose(); }, 15_000);

describe('100 concurrent buyers reusing 10 authorizations', () => {
  it('delivers exactly 10, settles exactly 10, refuses 90 with 402 invalid_exact_evm_nonce_already_used, and balances match', async () => {
    const before = await s.balances();
    const authorizations: Array<{ payer: PrivateKeyAccount; headers: Record<string, string> }> = [];
    for (const payer of s.payers) {
      for (const version of [1, 2] as const) authorizations.push({ payer, headers: await s.sign(payer, { version }) });
    }
    expect(authorizations).toHaveLength(10);
    const requests = Array.from({ length: 100 }, (_, i) => authorizations[i % 10]!);
    const results = await Promise.all(requests.map(async ({ payer, headers }) => {
      const res = await s.paidGet(s.offer.path, headers, payer.address);
      return { status: res.status, error: res.status === 200 ? undefined : (await errorOf(res)).error, payer: payer.address, headers };
    }));
    const delivered = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(delivered).toHaveLength(10);
    // Each authorization delivered exactly once.
    expect(new Set(delivered.map((r) => JSON.stringify(r.headers))).size).toBe(10);
    // SPEC §5: a second use while claimed, consumed or settled is a 402 re-challenge; 503 only for a pending settle.
    expect(refused).toHaveLength(90);
    expect(new Set(refused.map((r) => `${r.status} ${r.error}`))).toEqual(new Set(['402 invalid_exact_evm_nonce_already_used']));
    expect(s.origin.hits).toHaveLength(10);
    expect(s.facilitator.stats.settleRequests).toBe(10);
    assertMoneyReconciles({ deliveredByPayer: s.ledger.deliveredByPayer, price: PRICE, balancesBefore: before, balancesAfter: await s.balances(), settlements: s.settlements() });
  }, 40_000);
});
