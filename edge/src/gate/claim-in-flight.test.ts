import { describe, expect, it } from 'vitest';
import { sampleOffer } from '../../../test/support/snapshots.js';
import { paymentHeaders, signPayment, testRequirement } from '../../../test/support/payments.js';
import type { Env } from '../env.js';
import type { FacilitatorClient } from './facilitator-client.js';
import type { PaidRoute } from './outcomes.js';
import { runPayment, type PaymentContext } from './pipeline.js';

/**
 * A buyer who hangs up while the ledger's claim is in flight: the claim may commit anyway, and only
 * this request can bring the authorization to its final state, so the request's work must already
 * be held by `waitUntil` (which outlives a disconnect) before the claim is awaited. The ledger here
 * is a namespace whose claim waits on cue; the real ledger is exercised in workerd (paid-flow.test.ts).
 */
describe('a claim in flight', () => {
  it('is held by waitUntil before the claim answers, and runs to its final state', async () => {
    let answerClaim: (result: { ok: true }) => void = () => undefined;
    const calls: string[] = [];
    const ledger = {
      claim: () => { calls.push('claim'); return new Promise<{ ok: true }>((resolve) => { answerClaim = resolve; }); },
      release: async () => { calls.push('release'); return true; },
    };
    const env = { NONCES: { getByName: () => ledger } } as unknown as Env;
    const held: Promise<unknown>[] = [];
    const facilitator: FacilitatorClient = {
      verify: async () => { calls.push('verify'); return { kind: 'invalid', reason: 'insufficient_funds' }; },
      settle: async () => { throw new Error('never settled'); },
    };
    const requirement = testRequirement();
    const paid: PaidRoute = {
      route: { baseUrl: 'https://edge.test', offer: sampleOffer(), draining: false },
      requirement,
      options: [requirement],
      resourceUrl: 'https://edge.test/services/echo',
    };
    const ctx: PaymentContext = {
      env,
      settings: { baseUrl: 'https://edge.test', originUrl: 'http://127.0.0.1:9', originTimeoutMs: 1000, facilitatorUrl: 'http://127.0.0.1:9', facilitatorTimeoutMs: 1000, facilitatorSettleTimeoutMs: 1000, facilitatorAuth: { mode: 'none' }, verifyMode: 'facilitator', serverTiming: false },
      facilitator,
      waitUntil: (promise) => { held.push(promise); },
      trace: () => undefined,
      paying: () => undefined,
    };
    const payment = await signPayment({ requirement, version: 2 });
    const outcome = runPayment(new Request(paid.resourceUrl, { headers: paymentHeaders(payment) }), paid, ctx);

    await expect.poll(() => calls).toEqual(['claim']);
    expect(held).toHaveLength(1);
    answerClaim({ ok: true });
    await Promise.all(held);
    expect(calls).toEqual(['claim', 'verify', 'release']);
    expect(await outcome).toEqual({ kind: 'refused', reason: 'insufficient_funds' });
  });
});
