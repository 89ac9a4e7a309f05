import { createPublicClient, createWalletClient, domainSeparator, http, toHex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNTS, LOCAL_NETWORKS, LOCAL_POLLING_MS, localChain, startChain, tokenAbi, type LocalChain } from '../../stack/chain.js';

/** The local stack's second chain (issue 11): anvil as Base, the token at Base's USDC address under "USD Coin"/"2". */
const { buyer, seller, facilitator } = LOCAL_ACCOUNTS;
const BASE = LOCAL_NETWORKS.base;
const domain = { name: 'USD Coin', version: '2', chainId: 8453, verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' } as const;

let chain: LocalChain;
let client: PublicClient;

beforeAll(async () => {
  chain = await startChain({ network: 'base' });
  client = createPublicClient({ chain: localChain(chain.rpcUrl, chain.chainId), transport: http(chain.rpcUrl), pollingInterval: LOCAL_POLLING_MS });
});
afterAll(async () => { await chain?.stop(); });

describe('EIP3009Token at the Base USDC address', () => {
  it('reports chain id 8453 and the EIP-712 domain "USD Coin"/"2" with the matching separator', async () => {
    expect([chain.chainId, chain.tokenAddress, BASE.caip2]).toEqual([8453, domain.verifyingContract, 'eip155:8453']);
    expect(await client.getChainId()).toBe(8453);
    expect(await client.readContract({ address: chain.tokenAddress, abi: tokenAbi, functionName: 'name' })).toBe('USD Coin');
    expect(await client.readContract({ address: chain.tokenAddress, abi: tokenAbi, functionName: 'DOMAIN_SEPARATOR' })).toBe(domainSeparator({ domain }));
    expect(await chain.balanceOf(buyer.address)).toBe(1_000_000_000n);
  });

  it('executes an authorization signed for the "USD Coin" domain on chain 8453', async () => {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const message = { from: buyer.address, to: seller.address, value: 1_000n, validAfter: now - 60n, validBefore: now + 600n, nonce: toHex(42, { size: 32 }) };
    const signature = await privateKeyToAccount(buyer.privateKey).signTypedData({
      domain, primaryType: 'TransferWithAuthorization', message,
      types: { TransferWithAuthorization: [{ name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' }] },
    });
    const wallet = createWalletClient({ chain: localChain(chain.rpcUrl, chain.chainId), transport: http(chain.rpcUrl), account: privateKeyToAccount(facilitator.privateKey) });
    const hash = await wallet.writeContract({ address: chain.tokenAddress, abi: tokenAbi, functionName: 'transferWithAuthorization', args: [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, signature] });
    expect((await client.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS })).status).toBe('success');
    expect(await chain.balanceOf(seller.address)).toBe(1_000n);
  });
});
