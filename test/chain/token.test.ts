import { readFileSync } from 'node:fs';
import {
  createPublicClient, createWalletClient, domainSeparator, http, parseEventLogs, parseSignature, toHex,
  type Address, type Hex, type PublicClient,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANVIL_MNEMONIC, LOCAL_ACCOUNTS, LOCAL_CHAIN_ID, LOCAL_POLLING_MS, localChain, startChain, tokenAbi, TOKEN_ADDRESS,
  type LocalChain,
} from '../../stack/chain.js';
import { artifactPath, CONTRACTS, sourceSha256 } from '../../stack/token/compile.js';

const { buyer, seller, facilitator } = LOCAL_ACCOUNTS;
const types = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
  ],
} as const;
const domain = { name: 'USDC', version: '2', chainId: LOCAL_CHAIN_ID, verifyingContract: TOKEN_ADDRESS } as const;

let chain: LocalChain;
let client: PublicClient;
let nonceCounter = 0;

interface Authorization {
  from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex;
}

function authorization(overrides: Partial<Authorization> = {}): Authorization {
  const now = BigInt(Math.floor(Date.now() / 1000));
  nonceCounter += 1;
  return {
    from: buyer.address, to: seller.address, value: 1_234n, validAfter: now - 600n, validBefore: now + 600n,
    nonce: toHex(nonceCounter + 1_000_000, { size: 32 }), ...overrides,
  };
}

async function sign(auth: Authorization, key: Hex = buyer.privateKey): Promise<Hex> {
  return privateKeyToAccount(key).signTypedData({ domain, types, primaryType: 'TransferWithAuthorization', message: auth });
}

const submitter = () => createWalletClient({
  chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), account: privateKeyToAccount(facilitator.privateKey),
});

/** Submit with the (v,r,s) overload, as x402's facilitator does for EOA signatures. */
async function submitVrs(auth: Authorization, signature: Hex): Promise<Hex> {
  const { v, r, s, yParity } = parseSignature(signature);
  const hash = await submitter().writeContract({
    address: TOKEN_ADDRESS, abi: tokenAbi, functionName: 'transferWithAuthorization',
    args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v ?? BigInt(yParity + 27)), r, s],
  });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS });
  expect(receipt.status).toBe('success');
  return hash;
}

function simulateBytes(auth: Authorization, signature: Hex) {
  return client.simulateContract({
    address: TOKEN_ADDRESS, abi: tokenAbi, functionName: 'transferWithAuthorization', account: facilitator.address,
    args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature],
  });
}

beforeAll(async () => {
  chain = await startChain();
  client = createPublicClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), pollingInterval: LOCAL_POLLING_MS });
});

afterAll(async () => {
  await chain?.stop();
});

describe('compiled artifacts', () => {
  it('are committed and match their Solidity sources (run npm run token:compile after editing a .sol)', () => {
    for (const name of CONTRACTS) {
      const artifact = JSON.parse(readFileSync(artifactPath(name), 'utf8')) as { sourceSha256: string; deployedBytecode: string };
      expect(artifact.sourceSha256, name).toBe(sourceSha256(name));
      expect(artifact.deployedBytecode.length, name).toBeGreaterThan(100);
    }
  });

  it('the written-out local accounts are anvil mnemonic accounts #0-#3', () => {
    for (const account of Object.values(LOCAL_ACCOUNTS)) {
      const derived = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: account.index });
      expect(derived.address).toBe(account.address);
      expect(toHex(derived.getHdKey().privateKey ?? new Uint8Array())).toBe(account.privateKey);
    }
  });
});

describe('EIP3009Token at the Base Sepolia USDC address', () => {
  it('reports chain id 84532, the EIP-712 domain "USDC"/"2", 6 decimals and the matching domain separator', async () => {
    expect(await client.getChainId()).toBe(84532);
    const read = <F extends 'name' | 'version' | 'decimals' | 'DOMAIN_SEPARATOR'>(functionName: F) =>
      client.readContract({ address: TOKEN_ADDRESS, abi: tokenAbi, functionName });
    expect(await read('name')).toBe('USDC');
    expect(await read('version')).toBe('2');
    expect(await read('decimals')).toBe(6);
    expect(await read('DOMAIN_SEPARATOR')).toBe(domainSeparator({ domain }));
  });

  it('transferWithAuthorization moves exactly the value once and marks the nonce used', async () => {
    const auth = authorization({ value: 4_321n });
    const [buyerBefore, sellerBefore] = [await chain.balanceOf(buyer.address), await chain.balanceOf(seller.address)];
    const readState = () => client.readContract({ address: TOKEN_ADDRESS, abi: tokenAbi, functionName: 'authorizationState', args: [buyer.address, auth.nonce] });
    expect(await readState()).toBe(false);

    const hash = await submitVrs(auth, await sign(auth));
    const receipt = await client.getTransactionReceipt({ hash });
    const used = parseEventLogs({ abi: tokenAbi, eventName: 'AuthorizationUsed', logs: receipt.logs });
    expect(used.map((l) => l.args)).toEqual([{ authorizer: buyer.address, nonce: auth.nonce }]);
    expect(await readState()).toBe(true);
    expect(await chain.balanceOf(buyer.address)).toBe(buyerBefore - 4_321n);
    expect(await chain.balanceOf(seller.address)).toBe(sellerBefore + 4_321n);
  });

  it('a replayed authorization reverts with "authorization is used or canceled" and moves nothing', async () => {
    const auth = authorization();
    const signature = await sign(auth);
    await submitVrs(auth, signature);
    const [buyerBefore, sellerBefore] = [await chain.balanceOf(buyer.address), await chain.balanceOf(seller.address)];
    await expect(submitVrs(auth, signature)).rejects.toThrow(/authorization is used or canceled/);
    await expect(simulateBytes(auth, signature)).rejects.toThrow(/authorization is used or canceled/);
    expect(await chain.balanceOf(buyer.address)).toBe(buyerBefore);
    expect(await chain.balanceOf(seller.address)).toBe(sellerBefore);
  });

  it('the bytes-signature overload accepts the same 65-byte EOA signature', async () => {
    const auth = authorization();
    const { request } = await simulateBytes(auth, await sign(auth));
    const hash = await submitter().writeContract(request);
    expect((await client.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS })).status).toBe('success');
  });

  it('rejects a signature by another key, a changed value, an expired and a not-yet-valid authorization', async () => {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const auth = authorization();
    await expect(simulateBytes(auth, await sign(auth, seller.privateKey))).rejects.toThrow(/invalid signature/);
    await expect(simulateBytes({ ...auth, value: auth.value + 1n }, await sign(auth))).rejects.toThrow(/invalid signature/);
    const expired = authorization({ validBefore: now - 10n });
    await expect(simulateBytes(expired, await sign(expired))).rejects.toThrow(/authorization is expired/);
    const early = authorization({ validAfter: now + 3_600n, validBefore: now + 7_200n });
    await expect(simulateBytes(early, await sign(early))).rejects.toThrow(/authorization is not yet valid/);
  });

  it('refuses to move more than the payer holds', async () => {
    const auth = authorization({ value: (await chain.balanceOf(buyer.address)) + 1n });
    await expect(simulateBytes(auth, await sign(auth))).rejects.toThrow(/transfer amount exceeds balance/);
  });

  it('a second chain on a taken port fails with ChainStartError and leaves the first one serving', async () => {
    const taken = Number(new URL(chain.rpcUrl).port);
    await expect(startChain({ port: taken })).rejects.toMatchObject({ name: 'ChainStartError', reason: 'chain_start_failed' });
    expect(await client.getChainId()).toBe(84532);
  });

  it('mint (test token only) credits exactly the amount', async () => {
    const fresh = privateKeyToAccount(toHex(7n, { size: 32 })).address;
    await chain.mint(fresh, 55n);
    expect(await chain.balanceOf(fresh)).toBe(55n);
  });
});
