import {
  createPublicClient, createWalletClient, domainSeparator, http, parseEventLogs, toHex,
  type Abi, type AbiParameter, type Address, type Hex, type PublicClient,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityRegistryAbi } from '../../cluster-agent/src/identity/registry-abi.js';
import { ANVIL_MNEMONIC, LOCAL_ACCOUNTS, LOCAL_CHAIN_ID, LOCAL_POLLING_MS, localChain, startChain, TOKEN_ADDRESS, type LocalChain } from '../../stack/chain.js';
import { deployIdentityRegistry, LOCAL_IDENTITY_REGISTRY, REGISTRY_DEPLOYER } from '../../stack/identity.js';
import { compileRegistry, loadRegistryArtifact, registrySourceSha256 } from '../../stack/identity-registry/compile.js';

/** Our ERC-8004 IdentityRegistry on a real local chain: the EIP's functions and events, ERC-721 rules. */

const { seller, buyer, facilitator } = LOCAL_ACCOUNTS;
const artifact = loadRegistryArtifact();
const abi = artifact.abi as Abi;
const registry = { address: LOCAL_IDENTITY_REGISTRY, abi } as const;

/** An ABI entry as its kind, name, parameter types (indexed marked) and, for functions, mutability and outputs. */
function shape(item: Abi[number]): string {
  const param = (p: AbiParameter): string => {
    const inner = 'components' in p && p.components ? `(${p.components.map(param).join(',')})${p.type.slice('tuple'.length)}` : p.type;
    return 'indexed' in p && p.indexed ? `${inner} indexed` : inner;
  };
  if (item.type !== 'function' && item.type !== 'event') return item.type;
  const head = `${item.type} ${item.name}(${item.inputs.map(param).join(',')})`;
  if (item.type === 'event') return head;
  // view and pure are the same to a caller (eth_call)
  return `${head} ${item.stateMutability === 'pure' ? 'view' : item.stateMutability} returns (${item.outputs.map(param).join(',')})`;
}

let chain: LocalChain;
let client: PublicClient;

function walletOf(privateKey: Hex) {
  return createWalletClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), account: privateKeyToAccount(privateKey) });
}

/** Send `functionName(args)` from `privateKey` (after a simulation, which throws the revert reason) and return the receipt's logs. */
async function write(privateKey: Hex, functionName: string, args: readonly unknown[]) {
  const account = privateKeyToAccount(privateKey);
  const { request } = await client.simulateContract({ ...registry, functionName, args, account } as Parameters<PublicClient['simulateContract']>[0]);
  const hash = await walletOf(privateKey).writeContract(request as Parameters<ReturnType<typeof walletOf>['writeContract']>[0]);
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS });
  expect(receipt.status).toBe('success');
  return receipt.logs;
}

const read = (functionName: string, args: readonly unknown[] = []) => client.readContract({ ...registry, functionName, args });

async function registerAs(privateKey: Hex, agentURI: string): Promise<bigint> {
  const logs = await write(privateKey, 'register', [agentURI]);
  const [event] = parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs });
  if (!event) throw new Error('no Registered event');
  return event.args.agentId;
}

beforeAll(async () => {
  chain = await startChain();
  client = createPublicClient({ chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl), pollingInterval: LOCAL_POLLING_MS });
  expect(await deployIdentityRegistry(chain.rpcUrl)).toBe(LOCAL_IDENTITY_REGISTRY);
});

afterAll(async () => {
  await chain?.stop();
});

describe('compiled artifact', () => {
  it('is committed, matches its Solidity source and recompiles to the same bytecode (run npm run registry:compile after editing the .sol)', () => {
    expect(artifact.sourceSha256).toBe(registrySourceSha256());
    const fresh = compileRegistry();
    expect(fresh.bytecode).toBe(artifact.bytecode);
    expect(fresh.deployedBytecode).toBe(artifact.deployedBytecode);
    expect(fresh.abi).toEqual(artifact.abi);
  }, 30_000);

  it('has every function and event of the EIP interface the CLI speaks, with the same signature', () => {
    const ours = new Set(abi.map(shape));
    for (const item of identityRegistryAbi) expect(ours).toContain(shape(item));
  });

  it('the registry deployer is anvil mnemonic account #4 and the registry its first contract', async () => {
    const derived = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: REGISTRY_DEPLOYER.index });
    expect(derived.address).toBe(REGISTRY_DEPLOYER.address);
    expect(toHex(derived.getHdKey().privateKey ?? new Uint8Array())).toBe(REGISTRY_DEPLOYER.privateKey);
    expect(await client.getCode({ address: LOCAL_IDENTITY_REGISTRY })).toBe(artifact.deployedBytecode);
    expect(await deployIdentityRegistry(chain.rpcUrl)).toBe(LOCAL_IDENTITY_REGISTRY);
  });
});

describe('IdentityRegistry', () => {
  it('is an ERC-721 named AgentIdentity/AGENT with ERC-165, Metadata and ERC-4906', async () => {
    expect([await read('name'), await read('symbol')]).toEqual(['AgentIdentity', 'AGENT']);
    for (const id of ['0x01ffc9a7', '0x80ac58cd', '0x5b5e139f', '0x49064906']) expect(await read('supportsInterface', [id]), id).toBe(true);
    expect(await read('supportsInterface', ['0xffffffff'])).toBe(false);
  });

  it('register(agentURI) mints the next agentId to the caller and emits Transfer, Registered and MetadataSet(agentWallet)', async () => {
    const uri = 'https://edge.example/.well-known/agent-registration.json';
    const logs = await write(seller.privateKey, 'register', [uri]);
    const events = parseEventLogs({ abi: identityRegistryAbi, logs });
    const agentId = events.find((e) => e.eventName === 'Registered')?.args as { agentId: bigint };
    const id = agentId.agentId;
    expect(id).toBeGreaterThanOrEqual(1n);
    expect(events.map((e) => e.eventName).sort()).toEqual(['MetadataSet', 'Registered', 'Transfer']);
    expect(events.find((e) => e.eventName === 'Transfer')?.args).toEqual({ from: '0x0000000000000000000000000000000000000000', to: seller.address, tokenId: id });
    expect(events.find((e) => e.eventName === 'Registered')?.args).toEqual({ agentId: id, agentURI: uri, owner: seller.address });
    expect(events.find((e) => e.eventName === 'MetadataSet')?.args).toMatchObject({ agentId: id, metadataKey: 'agentWallet', metadataValue: seller.address.toLowerCase() });
    expect(await read('ownerOf', [id])).toBe(seller.address);
    expect(await read('tokenURI', [id])).toBe(uri);
    expect(await read('getAgentWallet', [id])).toBe(seller.address);
    expect(await read('getMetadata', [id, 'agentWallet'])).toBe(seller.address.toLowerCase());
    // agentIds are incremental
    expect(await registerAs(seller.privateKey, uri)).toBe(id + 1n);
  });

  it('register() leaves agentURI empty; register(agentURI, metadata) stores and announces each entry; the agentWallet key is reserved', async () => {
    const bare = parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs: await write(buyer.privateKey, 'register', []) })[0]?.args;
    expect(bare?.agentURI).toBe('');
    expect(await read('tokenURI', [bare?.agentId])).toBe('');
    const metadata = [{ metadataKey: 'agentName', metadataValue: toHex('demo') }, { metadataKey: 'x', metadataValue: '0x01' }];
    const logs = await write(buyer.privateKey, 'register', ['ipfs://cid', metadata]);
    const set = parseEventLogs({ abi: identityRegistryAbi, eventName: 'MetadataSet', logs }).map((e) => [e.args.metadataKey, e.args.metadataValue]);
    expect(set).toEqual([['agentWallet', buyer.address.toLowerCase()], ['agentName', toHex('demo')], ['x', '0x01']]);
    const id = parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs })[0]?.args.agentId;
    expect(await read('getMetadata', [id, 'agentName'])).toBe(toHex('demo'));
    await expect(write(buyer.privateKey, 'register', ['ipfs://cid', [{ metadataKey: 'agentWallet', metadataValue: '0x01' }]])).rejects.toThrow(/reserved key/);
    await expect(write(buyer.privateKey, 'setMetadata', [id, 'agentWallet', '0x01'])).rejects.toThrow(/reserved key/);
  });

  it('setAgentURI and setMetadata: the owner, an operator or the approved address may; anyone else gets "Not authorized"', async () => {
    const id = await registerAs(seller.privateKey, 'https://a.example/.well-known/agent-registration.json');
    const logs = await write(seller.privateKey, 'setAgentURI', [id, 'https://b.example/x.json']);
    expect(parseEventLogs({ abi: identityRegistryAbi, eventName: 'URIUpdated', logs })[0]?.args).toEqual({ agentId: id, newURI: 'https://b.example/x.json', updatedBy: seller.address });
    expect(await read('tokenURI', [id])).toBe('https://b.example/x.json');
    await expect(write(buyer.privateKey, 'setAgentURI', [id, 'https://evil.example/'])).rejects.toThrow(/Not authorized/);
    await expect(write(buyer.privateKey, 'setMetadata', [id, 'k', '0x02'])).rejects.toThrow(/Not authorized/);
    await write(seller.privateKey, 'approve', [buyer.address, id]);
    await write(buyer.privateKey, 'setAgentURI', [id, 'https://c.example/x.json']);
    await write(seller.privateKey, 'setApprovalForAll', [facilitator.address, true]);
    await write(facilitator.privateKey, 'setMetadata', [id, 'k', '0x02']);
    expect([await read('tokenURI', [id]), await read('getMetadata', [id, 'k'])]).toEqual(['https://c.example/x.json', '0x02']);
    await write(seller.privateKey, 'setApprovalForAll', [facilitator.address, false]);
  });

  it('setAgentWallet needs the new wallet\'s EIP-712 signature within 5 minutes; unsetAgentWallet and a transfer clear it', async () => {
    const id = await registerAs(seller.privateKey, 'https://w.example/');
    const wallet = privateKeyToAccount(toHex(0xabcdefn, { size: 32 }));
    const now = BigInt((await client.getBlock()).timestamp);
    const domain = { name: 'ERC8004IdentityRegistry', version: '1', chainId: LOCAL_CHAIN_ID, verifyingContract: LOCAL_IDENTITY_REGISTRY } as const;
    expect(await read('DOMAIN_SEPARATOR')).toBe(domainSeparator({ domain }));
    expect(await read('eip712Domain')).toEqual(['0x0f', domain.name, domain.version, BigInt(LOCAL_CHAIN_ID), LOCAL_IDENTITY_REGISTRY, `0x${'0'.repeat(64)}`, []]);
    const sign = (signer: typeof wallet, deadline: bigint) => signer.signTypedData({
      domain, primaryType: 'AgentWalletSet', message: { agentId: id, newWallet: wallet.address, owner: seller.address, deadline },
      types: { AgentWalletSet: [{ name: 'agentId', type: 'uint256' }, { name: 'newWallet', type: 'address' }, { name: 'owner', type: 'address' }, { name: 'deadline', type: 'uint256' }] },
    });
    const stranger = privateKeyToAccount(toHex(0x1234n, { size: 32 }));
    await expect(write(seller.privateKey, 'setAgentWallet', [id, wallet.address, now + 120n, await sign(stranger, now + 120n)])).rejects.toThrow(/invalid wallet sig/);
    await expect(write(seller.privateKey, 'setAgentWallet', [id, wallet.address, now - 1n, await sign(wallet, now - 1n)])).rejects.toThrow(/expired/);
    await expect(write(seller.privateKey, 'setAgentWallet', [id, wallet.address, now + 3_600n, await sign(wallet, now + 3_600n)])).rejects.toThrow(/deadline too far/);
    await write(seller.privateKey, 'setAgentWallet', [id, wallet.address, now + 120n, await sign(wallet, now + 120n)]);
    expect(await read('getAgentWallet', [id])).toBe(wallet.address);
    await write(seller.privateKey, 'unsetAgentWallet', [id]);
    expect(await read('getAgentWallet', [id])).toBe('0x0000000000000000000000000000000000000000');

    await write(seller.privateKey, 'setAgentWallet', [id, wallet.address, now + 120n, await sign(wallet, now + 120n)]);
    const logs = await write(seller.privateKey, 'transferFrom', [seller.address, buyer.address, id]);
    expect(parseEventLogs({ abi: identityRegistryAbi, eventName: 'MetadataSet', logs })[0]?.args).toMatchObject({ metadataKey: 'agentWallet', metadataValue: '0x' });
    expect(await read('ownerOf', [id])).toBe(buyer.address);
    expect(await read('getAgentWallet', [id])).toBe('0x0000000000000000000000000000000000000000');
    await expect(write(seller.privateKey, 'setAgentURI', [id, 'https://old-owner.example/'])).rejects.toThrow(/Not authorized/);
  });

  it('ERC-721 rules: unknown agents, wrong owners, missing approval and non-receiver contracts revert with ERC-6093 errors', async () => {
    await expect(read('ownerOf', [999_999n])).rejects.toThrow(/ERC721NonexistentToken/);
    await expect(read('tokenURI', [999_999n])).rejects.toThrow(/ERC721NonexistentToken/);
    const id = await registerAs(seller.privateKey, 'https://t.example/');
    await expect(write(buyer.privateKey, 'transferFrom', [seller.address, buyer.address, id])).rejects.toThrow(/ERC721InsufficientApproval/);
    await expect(write(seller.privateKey, 'transferFrom', [buyer.address, seller.address, id])).rejects.toThrow(/ERC721IncorrectOwner/);
    // The test token has no onERC721Received: a safe transfer to it must not strand the agent.
    await expect(write(seller.privateKey, 'safeTransferFrom', [seller.address, TOKEN_ADDRESS as Address, id])).rejects.toThrow(/ERC721InvalidReceiver/);
    expect(await read('balanceOf', [seller.address])).toBeGreaterThan(0n);
    await expect(read('balanceOf', ['0x0000000000000000000000000000000000000000'])).rejects.toThrow(/ERC721InvalidOwner/);
  });
});
