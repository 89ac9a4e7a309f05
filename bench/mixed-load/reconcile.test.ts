import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, http } from 'viem';
import { localChain, startChain, type LocalChain } from '../../stack/chain.js';
import { countOnChain, reconcile, reconciliationLine, type ChainCount } from './reconcile.js';

const PRICE = 1000n;
const clean = (n: number): ChainCount => ({ transfers: n, authorizationsUsed: n, wrongAmount: 0, balanceDelta: BigInt(n) * PRICE });

describe('reconciliation line', () => {
  it('is balanced only when all three counts agree', () => {
    expect(reconciliationLine(reconcile(301, 301, clean(301), PRICE))).toBe('2xx paid responses = settlements = on-chain transfers: 301 = 301 = 301 (balanced)');
    expect(reconcile(301, 300, clean(300), PRICE).balanced).toBe(false);
    expect(reconcile(300, 300, clean(301), PRICE).balanced).toBe(false);
    expect(reconciliationLine(reconcile(302, 301, clean(301), PRICE))).toMatch(/302 = 301 = 301 \(MISMATCH\)$/);
  });

  it('is a mismatch when the seller balance moved by other than transfers × price', () => {
    const r = reconcile(2, 2, { ...clean(2), balanceDelta: 2001n }, PRICE);
    expect(r.balanced).toBe(false);
    expect(r.problems).toEqual(['seller balance delta 2001 ≠ transfers × price 2000']);
  });
});

describe('on-chain count (real anvil)', () => {
  let chain: LocalChain;
  beforeAll(async () => { chain = await startChain(); });
  afterAll(async () => { await chain?.stop(); });

  it('counts every transfer to the seller since the start block and flags ones that were no EIP-3009 settlement', async () => {
    const client = createPublicClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl) });
    const seller = chain.accounts.seller.address;
    const fromBlock = (await client.getBlockNumber()) + 1n;
    const balanceBefore = await chain.balanceOf(seller);
    await chain.mint(seller, PRICE);
    await chain.mint(seller, 5n);
    await chain.mint(chain.accounts.buyer.address, PRICE); // not to the seller: not counted
    const count = await countOnChain({ rpcUrl: chain.rpcUrl, token: chain.tokenAddress, seller, fromBlock, balanceBefore, price: PRICE });
    expect(count).toEqual({ transfers: 2, authorizationsUsed: 0, wrongAmount: 1, balanceDelta: PRICE + 5n });
    const r = reconcile(2, 2, count, PRICE);
    expect(r.balanced).toBe(false);
    expect(r.problems).toEqual([
      'AuthorizationUsed events 0 ≠ transfers 2',
      '1 transfers of a value other than the price 1000',
      'seller balance delta 1005 ≠ transfers × price 2000',
    ]);
  });
});
