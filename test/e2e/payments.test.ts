import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReceipt } from '../../stack/buyer.js';
import type { LocalStack } from '../../stack/local-stack.js';
import { buyerAndSellerBalances, recordingBuyer, serviceNamed, startE2EStack, tokenTransfers } from './stack-support.js';

/**
 * The official x402 client (@x402/fetch + @x402/evm) pays through the edge under `wrangler dev`;
 * the agent published the offers from examples/offers; the local facilitator settles on anvil.
 */

let stack: LocalStack;
let price: bigint;

beforeAll(async () => {
  ({ stack } = await startE2EStack());
  const weather = await serviceNamed(stack.edgeUrl, 'weather');
  price = BigInt(weather.priceAtomicUnits);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

const balances = () => buyerAndSellerBalances(stack);

async function payOnce(version: 1 | 2) {
  const { pay, sent } = recordingBuyer(version);
  const before = await balances();
  const response = await pay(`${stack.edgeUrl}/services/weather?city=Berlin`);
  const body: unknown = await response.json();
  const after = await balances();
  return { response, body, before, after, sent, receipt: readReceipt(response) };
}

describe('paid requests end to end', () => {
  it('the agent published the example offers with the price from the manifest (0.001 USDC = 1000 atomic units)', () => {
    expect(price).toBe(1000n);
  });

  it.each([2, 1] as const)('a v%i payment moves exactly the price once from buyer to seller and returns a mined receipt', async (version) => {
    const paid = await payOnce(version);
    expect(paid.response.status).toBe(200);
    expect(paid.body).toMatchObject({ city: 'Berlin', payer: stack.accounts.buyer.address });
    // The client sent exactly one payment, in the header of its version.
    const header = version === 2 ? 'PAYMENT-SIGNATURE' : 'X-PAYMENT';
    expect(paid.sent.filter((h) => h.has(header))).toHaveLength(1);
    expect(paid.sent.some((h) => h.has(version === 2 ? 'X-PAYMENT' : 'PAYMENT-SIGNATURE'))).toBe(false);
    expect(paid.receipt).toMatchObject({ header: version === 2 ? 'PAYMENT-RESPONSE' : 'X-PAYMENT-RESPONSE', success: true });
    expect(paid.receipt?.network).toBe(version === 2 ? 'eip155:84532' : 'base-sepolia');
    expect(paid.before.buyer - paid.after.buyer).toBe(price);
    expect(paid.after.seller - paid.before.seller).toBe(price);
    const mined = await tokenTransfers(stack.rpcUrl, paid.receipt?.transaction ?? '');
    expect(mined.status).toBe('success');
    expect(mined.transfers).toEqual([{ from: stack.accounts.buyer.address, to: stack.accounts.seller.address, value: price }]);
    expect(stack.facilitator.stats.transactions).toContain(paid.receipt?.transaction);
  }, 20_000);

  it('replaying a settled payment header is refused as already used and moves no tokens', async () => {
    const paid = await payOnce(2);
    expect(paid.response.status).toBe(200);
    const signature = paid.sent.find((h) => h.has('PAYMENT-SIGNATURE'))?.get('PAYMENT-SIGNATURE');
    expect(signature).toBeTruthy();
    const settledBefore = stack.facilitator.stats.settleRequests;
    const before = await balances();
    const replay = await fetch(`${stack.edgeUrl}/services/weather?city=Berlin`, { headers: { 'PAYMENT-SIGNATURE': signature ?? '' } });
    expect(replay.status).toBe(402);
    const challenge = JSON.parse(Buffer.from(replay.headers.get('PAYMENT-REQUIRED') ?? '', 'base64').toString('utf8')) as { error?: string };
    expect(challenge.error).toBe('invalid_exact_evm_nonce_already_used');
    expect(await balances()).toEqual(before);
    expect(stack.facilitator.stats.settleRequests).toBe(settledBefore);
  }, 20_000);

  it('a malformed payment header gets 400 invalid_payment_header and moves no tokens', async () => {
    const before = await balances();
    const verifiesBefore = stack.facilitator.stats.verifyRequests;
    const res = await fetch(`${stack.edgeUrl}/services/weather`, { headers: { 'PAYMENT-SIGNATURE': 'not base64 json!' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'invalid_payment_header' });
    expect(await balances()).toEqual(before);
    expect(stack.facilitator.stats.verifyRequests).toBe(verifiesBefore);
  }, 10_000);

  it('an unpaid request answers 402 with the v1 body and the v2 header offering the same price', async () => {
    const res = await fetch(`${stack.edgeUrl}/services/weather`);
    expect(res.status).toBe(402);
    const v1 = (await res.json()) as { x402Version: number; accepts: Array<{ maxAmountRequired: string; payTo: string }> };
    const v2 = JSON.parse(Buffer.from(res.headers.get('PAYMENT-REQUIRED') ?? '', 'base64').toString('utf8')) as { accepts: Array<{ amount: string; payTo: string }> };
    expect(v1.x402Version).toBe(1);
    expect(v1.accepts[0]?.maxAmountRequired).toBe(price.toString());
    expect(v2.accepts[0]?.amount).toBe(price.toString());
    expect(v2.accepts[0]?.payTo).toBe(stack.accounts.seller.address);
  }, 10_000);
});
