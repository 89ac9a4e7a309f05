import {
  BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, decodeFunctionResult, defineChain, encodeFunctionData,
  formatEther, formatGwei, http, parseEventLogs, type Address, type Chain, type Hex, type LocalAccount, type PublicClient, type TransactionReceipt,
} from 'viem';
import { agentRegistryId, publicIdentityRegistry, type AgentRegistryId } from './registries.js';
import { ERC721_INTERFACE_ID, identityRegistryAbi } from './registry-abi.js';

/**
 * An ERC-8004 Identity Registry on some chain, through viem: checked to be one before use, and
 * written to only after a simulation, a gas estimate and a balance check passed, so a bad address,
 * an unfunded key or a foreign agent fails before anything is sent.
 */

export type IdentityChainErrorReason =
  | 'rpc_unreachable' | 'chain_mismatch' | 'no_registry_for_chain' | 'not_a_contract' | 'not_a_registry'
  | 'insufficient_gas' | 'agent_not_found' | 'not_agent_owner' | 'transaction_failed' | 'receipt_timeout'
  | 'agent_id_too_large' | 'chain_disagrees';

export class IdentityChainError extends Error {
  constructor(readonly reason: IdentityChainErrorReason, message: string) {
    super(message);
    this.name = 'IdentityChainError';
  }
}

export interface IdentityRegistryTarget {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly address: Address;
  /** CAIP-10: `eip155:<chainId>:<address>`. */
  readonly agentRegistry: AgentRegistryId;
  readonly client: PublicClient;
  readonly chain: Chain;
  readonly pollingMs: number;
  readonly receiptTimeoutMs: number;
}

export interface ConnectParams {
  readonly rpcUrl: string;
  /** Default: the official registry of the RPC's chain (registries.ts). */
  readonly registry?: Address;
  /** Refuse an RPC on another chain. */
  readonly expectChainId?: number;
  /** Receipt polling; viem's 4 s default is slow on a local chain. */
  readonly pollingMs?: number;
  readonly receiptTimeoutMs?: number;
}

const short = (error: unknown): string => (error instanceof BaseError ? error.shortMessage : (error as Error).message ?? String(error)).replace(/\.$/, '');

export async function connectIdentityRegistry(params: ConnectParams): Promise<IdentityRegistryTarget> {
  const transport = http(params.rpcUrl, { timeout: 15_000, retryCount: 1 });
  const chainId = await createPublicClient({ transport }).getChainId().catch((error: unknown) => {
    throw new IdentityChainError('rpc_unreachable', `cannot reach the chain at ${params.rpcUrl}: ${short(error)}`);
  });
  if (params.expectChainId !== undefined && params.expectChainId !== chainId) {
    throw new IdentityChainError('chain_mismatch', `${params.rpcUrl} is chain ${chainId}, not ${params.expectChainId}`);
  }
  const address = params.registry ?? publicIdentityRegistry(chainId)?.identityRegistry;
  if (!address) throw new IdentityChainError('no_registry_for_chain', `no known ERC-8004 Identity Registry on chain ${chainId}: pass --registry <address>`);
  const pollingMs = params.pollingMs ?? 1_000;
  const chain = defineChain({
    id: chainId, name: `eip155:${chainId}`, nativeCurrency: { name: 'native', symbol: 'native', decimals: 18 },
    rpcUrls: { default: { http: [params.rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport, pollingInterval: pollingMs });
  const target = {
    rpcUrl: params.rpcUrl, chainId, address, agentRegistry: agentRegistryId(chainId, address), client, chain, pollingMs,
    receiptTimeoutMs: params.receiptTimeoutMs ?? 120_000,
  };
  await assertIdentityRegistry(target);
  return target;
}

/** Code at the address, and that code says it is an ERC-721 (every ERC-8004 Identity Registry is). */
async function assertIdentityRegistry(target: IdentityRegistryTarget): Promise<void> {
  const where = `${target.address} on chain ${target.chainId}`;
  const code = await target.client.getCode({ address: target.address }).catch((error: unknown) => {
    throw new IdentityChainError('rpc_unreachable', `cannot read ${where}: ${short(error)}`);
  });
  if (code === undefined || code === '0x') {
    throw new IdentityChainError('not_a_contract', `${where} has no code: it is not an ERC-8004 Identity Registry (wrong --registry or --rpc?)`);
  }
  const erc721 = await target.client
    .readContract({ address: target.address, abi: identityRegistryAbi, functionName: 'supportsInterface', args: [ERC721_INTERFACE_ID] })
    .catch(() => false);
  if (!erc721) {
    throw new IdentityChainError('not_a_registry', `${where} is a contract but not an ERC-721 (supportsInterface(${ERC721_INTERFACE_ID}) is not true): not an ERC-8004 Identity Registry`);
  }
}

export interface OnChainAgent {
  readonly agentId: number;
  readonly owner: Address;
  readonly agentURI: string;
  /** The reserved `agentWallet`; absent when the registry does not answer getAgentWallet. */
  readonly agentWallet?: Address;
}

export async function readAgent(target: IdentityRegistryTarget, agentId: number): Promise<OnChainAgent> {
  const id = BigInt(agentId);
  const read = { address: target.address, abi: identityRegistryAbi } as const;
  const owner = await target.client.readContract({ ...read, functionName: 'ownerOf', args: [id] }).catch((error: unknown) => {
    const reverted = error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError) !== null;
    if (!reverted) throw new IdentityChainError('rpc_unreachable', `cannot read agent ${agentId} from ${target.agentRegistry}: ${short(error)}`);
    throw new IdentityChainError('agent_not_found', `agent ${agentId} does not exist in ${target.agentRegistry} (ownerOf reverted)`);
  });
  const agentURI = await target.client.readContract({ ...read, functionName: 'tokenURI', args: [id] });
  const agentWallet = await target.client.readContract({ ...read, functionName: 'getAgentWallet', args: [id] }).catch(() => undefined);
  return { agentId, owner, agentURI, ...(agentWallet ? { agentWallet } : {}) };
}

/** A call to send: its calldata, its name for messages, and the reason a failed simulation gets. */
interface RegistryWrite {
  readonly data: Hex;
  readonly label: string;
  readonly simulationFailure: IdentityChainErrorReason;
  /** Judges the simulation's return data; throwing here stops before anything is sent. */
  readonly checkSimulation?: (returned: Hex | undefined) => void;
}

/** Refuse before sending when the balance cannot pay `gas` at the chain's current fee. */
async function assertFunded(target: IdentityRegistryTarget, account: Address, gas: bigint): Promise<void> {
  const fees = await target.client.estimateFeesPerGas().catch(async () => ({ maxFeePerGas: await target.client.getGasPrice() }));
  const perGas = fees.maxFeePerGas ?? 0n;
  const cost = gas * perGas;
  const balance = await target.client.getBalance({ address: account });
  if (balance < cost) {
    throw new IdentityChainError('insufficient_gas', `${account} cannot pay for gas on chain ${target.chainId}: it holds ${formatEther(balance)}, the transaction needs up to ${formatEther(cost)} (${gas} gas at ${formatGwei(perGas)} gwei) in the chain's native currency; nothing was sent`);
  }
}

/** Simulate, estimate, check the balance, send, wait: the receipt of a successful transaction. */
async function send(target: IdentityRegistryTarget, account: LocalAccount, write: RegistryWrite): Promise<TransactionReceipt> {
  const tx = { account, to: target.address, data: write.data } as const;
  const simulated = await target.client.call(tx).catch((error: unknown) => {
    throw new IdentityChainError(write.simulationFailure, `${write.label} would fail at ${target.agentRegistry}: ${short(error)}; nothing was sent`);
  });
  const gas = await target.client.estimateGas(tx).catch((error: unknown) => {
    const detail = short(error);
    const reason = /insufficient funds/i.test(detail) ? 'insufficient_gas' : 'transaction_failed';
    throw new IdentityChainError(reason, `cannot estimate gas for ${write.label} on chain ${target.chainId}: ${detail}; nothing was sent`);
  });
  write.checkSimulation?.(simulated.data);
  await assertFunded(target, account.address, gas);
  const wallet = createWalletClient({ account, chain: target.chain, transport: http(target.rpcUrl, { timeout: 15_000 }) });
  const hash = await wallet.sendTransaction({ to: target.address, data: write.data, gas }).catch((error: unknown) => {
    throw new IdentityChainError('transaction_failed', `sending ${write.label} failed: ${short(error)}`);
  });
  const receipt = await target.client
    .waitForTransactionReceipt({ hash, pollingInterval: target.pollingMs, timeout: target.receiptTimeoutMs })
    .catch((error: unknown) => {
      throw new IdentityChainError('receipt_timeout', `transaction ${hash} was sent but no receipt came within ${target.receiptTimeoutMs / 1000} s (${short(error)}); look it up before retrying`);
    });
  if (receipt.status !== 'success') throw new IdentityChainError('transaction_failed', `transaction ${hash} reverted on chain ${target.chainId}`);
  return receipt;
}

export interface Registered {
  readonly agentId: number;
  readonly transactionHash: Hex;
  /** The agentURI read back after the transaction. */
  readonly agentURI: string;
}

/**
 * `register(agentURI)` from `account`; the agentId is the receipt's Registered event's (another
 * registration landing first makes it differ from the simulation's, which is fine).
 */
export async function registerAgent(target: IdentityRegistryTarget, account: LocalAccount, agentURI: string): Promise<Registered> {
  const data = encodeFunctionData({ abi: identityRegistryAbi, functionName: 'register', args: [agentURI] });
  const receipt = await send(target, account, {
    data, label: 'register(agentURI)', simulationFailure: 'not_a_registry',
    checkSimulation: (returned) => {
      let promised: bigint;
      try {
        promised = decodeFunctionResult({ abi: identityRegistryAbi, functionName: 'register', args: [agentURI], data: returned ?? '0x' });
      } catch {
        throw new IdentityChainError('not_a_registry', `register(agentURI) at ${target.agentRegistry} returns no agentId (${returned ?? 'nothing'}): not an ERC-8004 Identity Registry; nothing was sent`);
      }
      if (promised > BigInt(Number.MAX_SAFE_INTEGER)) throw new IdentityChainError('agent_id_too_large', `the registry would assign agentId ${promised}, which an identity file cannot hold; nothing was sent`);
    },
  });
  const event = parseEventLogs({ abi: identityRegistryAbi, eventName: 'Registered', logs: receipt.logs })
    .find((log) => log.address.toLowerCase() === target.address.toLowerCase() && log.args.owner === account.address);
  if (!event || event.args.agentId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new IdentityChainError('chain_disagrees', `transaction ${receipt.transactionHash} succeeded but its Registered event for ${account.address} ${event ? `names agentId ${event.args.agentId}, too large for an identity file` : 'is missing'}`);
  }
  const agentId = Number(event.args.agentId);
  return { agentId, transactionHash: receipt.transactionHash, agentURI: (await readAgent(target, agentId)).agentURI };
}

/** The owner, its operator, or the account approved for this agent may change it (ERC-721 rules). */
async function mayManage(target: IdentityRegistryTarget, agent: OnChainAgent, account: Address): Promise<boolean> {
  if (agent.owner === account) return true;
  const read = { address: target.address, abi: identityRegistryAbi } as const;
  const [operator, approved] = await Promise.all([
    target.client.readContract({ ...read, functionName: 'isApprovedForAll', args: [agent.owner, account] }),
    target.client.readContract({ ...read, functionName: 'getApproved', args: [BigInt(agent.agentId)] }),
  ]);
  return operator || approved === account;
}

export interface UriUpdate {
  readonly previousURI: string;
  /** Absent when the agentURI already was the requested one (nothing sent). */
  readonly transactionHash?: Hex;
  /** The agentURI read back afterwards. */
  readonly agentURI: string;
}

/** `setAgentURI(agentId, agentURI)` from `account`, after checking the agent exists and is theirs. */
export async function updateAgentUri(target: IdentityRegistryTarget, account: LocalAccount, agentId: number, agentURI: string): Promise<UriUpdate> {
  const agent = await readAgent(target, agentId);
  if (!(await mayManage(target, agent, account.address))) {
    throw new IdentityChainError('not_agent_owner', `${account.address} may not change agent ${agentId} in ${target.agentRegistry}: its owner is ${agent.owner}`);
  }
  if (agent.agentURI === agentURI) return { previousURI: agent.agentURI, agentURI };
  const data = encodeFunctionData({ abi: identityRegistryAbi, functionName: 'setAgentURI', args: [BigInt(agentId), agentURI] });
  const receipt = await send(target, account, { data, label: 'setAgentURI', simulationFailure: 'transaction_failed' });
  return { previousURI: agent.agentURI, transactionHash: receipt.transactionHash, agentURI: (await readAgent(target, agentId)).agentURI };
}
