import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBuyerFetch, readReceipt } from '../../stack/buyer.js';
import type { LocalStack } from '../../stack/local-stack.js';
import { serviceNamed, startE2EStack, tokenTransfers } from './stack-support.js';

/**
 * Several ways to pay one offer (issue 11), end to end: the example weather offer accepts Base
 * Sepolia (the stack's first chain) or Base (its second, chain id 8453). A buyer whose only funds
 * are on Base pays with the official client (@x402/fetch + @x402/evm, a wallet for Base only),
 * in v2 and v1; the local facilitator settles each payment on Base.
 */
let stack: LocalStack;
let price: bigint;
const buyerKey = generatePrivateKey();
const buyer = privateKeyToAccount(buyerKey).address;
const FUNDS = 10_000n;

beforeAll(async () => {
  ({ stack } = await startE2EStack());
  price = BigInt((await serviceNamed(stack.edgeUrl, 'weather')).priceAtomicUnits);
  await stack.baseChain.mint(buyer, FUNDS);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

async function balances() {
  const seller = stack.accounts.seller.address;
  const [baseBuyer, baseSeller, firstBuyer, firstSeller] = await Promise.all([
    stack.baseChain.balanceOf(buyer), stack.baseChain.balanceOf(seller), stack.chain.balanceOf(buyer), stack.chain.balanceOf(seller),
  ]);
  return { baseBuyer, baseSeller, firstBuyer, firstSeller };
}

describe('an offer that accepts two chains', () => {
  it('its 402 lists Base Sepolia then Base, in v2 and v1', async () => {
    const res = await fetch(`${stack.edgeUrl}/services/weather?city=Berlin`);
    expect(res.status).toBe(402);
    const v1 = (await res.json()) as { accepts: Array<{ network: string; asset: string }> };
    expect(v1.accepts.map((a) => [a.network, a.asset])).toEqual([
      ['base-sepolia', stack.chain.tokenAddress],
      ['base', stack.baseChain.tokenAddress],
    ]);
  });

  it('a buyer with funds only on the second chain pays in v2 and v1; both chains reconcile with the 2xx answers', async () => {
    const before = await balances();
    const answers: number[] = [];
    for (const version of [2, 2, 1] as const) {
      const pay = makeBuyerFetch({ privateKey: buyerKey, version, network: 'base' });
      const response = await pay(`${stack.edgeUrl}/services/weather?city=Berlin`);
      expect(response.status, await response.clone().text()).toBe(200);
      expect(await response.json()).toMatchObject({ city: 'Berlin', payer: buyer });
      const receipt = readReceipt(response);
      expect(receipt).toMatchObject({ success: true, network: version === 2 ? 'eip155:8453' : 'base', payer: buyer });
      // Settled on Base: the transfer is mined on the second chain, in Base's token.
      const mined = await tokenTransfers(stack.baseRpcUrl, receipt?.transaction ?? '', stack.baseChain.tokenAddress);
      expect(mined).toEqual({ status: 'success', transfers: [{ from: buyer, to: stack.accounts.seller.address, value: price }] });
      answers.push(response.status);
    }
    const after = await balances();
    const paid = BigInt(answers.filter((status) => status >= 200 && status < 300).length) * price;
    expect(paid).toBe(3n * price);
    expect(before.baseBuyer - after.baseBuyer).toBe(paid);
    expect(after.baseSeller - before.baseSeller).toBe(paid);
    // Nothing moved on the first chain.
    expect([after.firstBuyer, after.firstSeller]).toEqual([0n, before.firstSeller]);
  }, 40_000);

  it('the same buyer cannot pay on the first chain, where it holds nothing: no 2xx, nothing moves', async () => {
    const before = await balances();
    const pay = makeBuyerFetch({ privateKey: buyerKey, version: 2, network: 'base-sepolia' });
    const response = await pay(`${stack.edgeUrl}/services/weather?city=Berlin`);
    expect(response.status).toBe(402);
    await response.body?.cancel();
    expect(await balances()).toEqual(before);
  }, 20_000);
});
