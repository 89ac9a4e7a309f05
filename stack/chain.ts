/**
 * A local EVM chain that x402 clients take for Base Sepolia (or, with `network: 'base'`, for Base):
 * anvil (shipped inside the npm package `@foundry-rs/anvil-linux-amd64`, the only platform build on
 * the registry here) on the network's chain id, our EIP-3009 test token placed at its USDC address
 * under its USDC's EIP-712 name, and a Multicall3 at its canonical address, all with `anvil_setCode`.
 *
 * CLI: `tsx stack/chain.ts [--port 8545] [--network base-sepolia|base]` runs it until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createPublicClient, createTestClient, createWalletClient, defineChain, http, parseAbi, toHex,
  type Address, type Chain, type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { NETWORKS } from '../core/networks.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = join(HERE, '..', 'node_modules');
/** A network the local stack can play: the real chain id, USDC address and EIP-712 name, from core's table. */
export interface LocalNetwork {
  readonly name: 'base-sepolia' | 'base';
  readonly caip2: `eip155:${number}`;
  readonly chainId: number;
  readonly tokenAddress: Address;
  /** The token's EIP-712 domain name: "USDC" on Base Sepolia, "USD Coin" on Base. */
  readonly tokenName: string;
}

function localNetwork(name: LocalNetwork['name']): LocalNetwork {
  const known = NETWORKS.find((n) => n.name === name);
  if (!known) throw new Error(`core/networks.ts lost ${name}`);
  return { name, caip2: known.caip2, chainId: known.chainId, tokenAddress: known.usdc.address, tokenName: known.usdc.eip712Name };
}

/** The stack's first chain (Base Sepolia) and its second (Base): the two networks the local facilitator settles on. */
export const LOCAL_NETWORKS: Readonly<Record<LocalNetwork['name'], LocalNetwork>> = Object.freeze({
  'base-sepolia': localNetwork('base-sepolia'),
  base: localNetwork('base'),
});

export const LOCAL_CHAIN_ID = LOCAL_NETWORKS['base-sepolia'].chainId;
export const TOKEN_ADDRESS: Address = LOCAL_NETWORKS['base-sepolia'].tokenAddress;
/** The test token's storage slot holding its `name` (EIP3009Token.sol). */
const TOKEN_NAME_SLOT = toHex(4, { size: 32 });
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';
/** Anvil's (and Hardhat's) public development mnemonic: every key below is public knowledge. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
/** What `startChain` mints to the buyer: 1,000 USDC at 6 decimals. */
export const BUYER_START_BALANCE = 1_000_000_000n;
/** viem polls receipts every 4 s by default; anvil mines at once. */
export const LOCAL_POLLING_MS = 50;

export interface LocalAccount {
  readonly index: number;
  readonly address: Address;
  readonly privateKey: Hex;
}

/**
 * Roles on the local chain: #0 places contracts and mints, #1 is paid, #2 pays, #3 settles.
 * Anvil's well-known accounts of ANVIL_MNEMONIC, written out because deriving them costs ~0.1 s
 * each (a test re-derives them).
 */
export const LOCAL_ACCOUNTS = Object.freeze({
  deployer: { index: 0, address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' },
  seller: { index: 1, address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' },
  buyer: { index: 2, address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', privateKey: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' },
  facilitator: { index: 3, address: '0x90F79bf6EB2c4f870365E785982E1f101E93b906', privateKey: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6' },
} as const satisfies Record<string, LocalAccount>);

export const tokenAbi = parseAbi([
  'function name() view returns (string)',
  'function version() view returns (string)',
  'function decimals() view returns (uint8)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function balanceOf(address) view returns (uint256)',
  'function mint(address to, uint256 amount)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);

const Artifact = z.object({ deployedBytecode: z.string().regex(/^0x[0-9a-f]+$/) });

function deployedBytecode(name: 'EIP3009Token' | 'Multicall3'): Hex {
  const json: unknown = JSON.parse(readFileSync(join(HERE, 'token', `${name}.json`), 'utf8'));
  const { deployedBytecode: code } = Artifact.parse(json);
  return code as Hex;
}

/** Solidity's storage of a string under 32 bytes: its bytes left-aligned, its length × 2 in the last byte. */
function shortStringWord(text: string): Hex {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 31) throw new RangeError(`"${text}" does not fit one storage word`);
  const word = new Uint8Array(32);
  word.set(bytes);
  word[31] = bytes.length * 2;
  return toHex(word);
}

/** A chain definition whose only RPC is the local anvil. */
export function localChain(rpcUrl: string, chainId: number = LOCAL_CHAIN_ID): Chain {
  return defineChain({
    id: chainId,
    name: `${Object.values(LOCAL_NETWORKS).find((n) => n.chainId === chainId)?.name ?? `chain ${chainId}`} (local anvil)`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export class ChainStartError extends Error {
  readonly reason = 'chain_start_failed';
  constructor(message: string) {
    super(message);
    this.name = 'ChainStartError';
  }
}

export interface LocalChain {
  readonly rpcUrl: string;
  readonly network: LocalNetwork;
  readonly chainId: number;
  readonly tokenAddress: Address;
  readonly multicallAddress: Address;
  readonly accounts: typeof LOCAL_ACCOUNTS;
  /** Test token: mint `amount` atomic units to `to` and wait for the block. */
  mint(to: Address, amount: bigint): Promise<void>;
  balanceOf(address: Address): Promise<bigint>;
  /** Freeze anvil (SIGSTOP): its port still accepts connections but nothing answers (failure drills). */
  suspend(): void;
  /** Undo `suspend()` (SIGCONT); the chain's state is intact. */
  resume(): void;
  stop(): Promise<void>;
}

export interface StartChainOptions {
  /** Which network the chain plays; default Base Sepolia. */
  readonly network?: LocalNetwork['name'];
  /** 0 or absent: a port chosen by the OS. */
  readonly port?: number;
  /** Minted to the buyer at start (atomic units); default `BUYER_START_BALANCE`. */
  readonly buyerBalance?: bigint;
  readonly startTimeoutMs?: number;
}

/** Start anvil, place the token and Multicall3, fund the buyer. Stop it with `stop()`. */
export async function startChain(options: StartChainOptions = {}): Promise<LocalChain> {
  const network = LOCAL_NETWORKS[options.network ?? 'base-sepolia'];
  const tokenAddress = network.tokenAddress;
  const anvil = await spawnAnvil(options.port ?? 0, options.startTimeoutMs ?? 10_000, network.chainId);
  try {
    const rpcUrl = `http://127.0.0.1:${anvil.port}`;
    const chain = localChain(rpcUrl, network.chainId);
    const transport = http(rpcUrl);
    const publicClient = createPublicClient({ chain, transport, pollingInterval: LOCAL_POLLING_MS });
    const testClient = createTestClient({ chain, transport, mode: 'anvil' });
    const deployer = createWalletClient({
      chain, transport, pollingInterval: LOCAL_POLLING_MS, account: privateKeyToAccount(LOCAL_ACCOUNTS.deployer.privateKey),
    });
    await testClient.setCode({ address: tokenAddress, bytecode: deployedBytecode('EIP3009Token') });
    await testClient.setStorageAt({ address: tokenAddress, index: TOKEN_NAME_SLOT, value: shortStringWord(network.tokenName) });
    await testClient.setCode({ address: MULTICALL3_ADDRESS, bytecode: deployedBytecode('Multicall3') });
    const mint = async (to: Address, amount: bigint): Promise<void> => {
      const hash = await deployer.writeContract({ address: tokenAddress, abi: tokenAbi, functionName: 'mint', args: [to, amount] });
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS });
      if (receipt.status !== 'success') throw new ChainStartError(`mint reverted in ${hash}`);
    };
    await mint(LOCAL_ACCOUNTS.buyer.address, options.buyerBalance ?? BUYER_START_BALANCE);
    return {
      rpcUrl,
      network,
      chainId: network.chainId,
      tokenAddress,
      multicallAddress: MULTICALL3_ADDRESS,
      accounts: LOCAL_ACCOUNTS,
      mint,
      balanceOf: (address) => publicClient.readContract({ address: tokenAddress, abi: tokenAbi, functionName: 'balanceOf', args: [address] }),
      suspend: () => anvil.signal('SIGSTOP'),
      resume: () => anvil.signal('SIGCONT'),
      stop: anvil.stop,
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

interface RunningAnvil {
  readonly port: number;
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  stop(): Promise<void>;
}

/** The native binary from the platform package (no node wrapper in between), else the npm shim. */
function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const native = join(NODE_MODULES, '@foundry-rs', `anvil-${process.platform}-${arch}`, 'bin', 'anvil');
  return existsSync(native) ? native : join(NODE_MODULES, '.bin', 'anvil');
}

/** Spawn anvil in its own process group and read the port it bound from its banner. */
function spawnAnvil(port: number, timeoutMs: number, chainId: number): Promise<RunningAnvil> {
  const child = spawn(
    anvilBinary(),
    ['--chain-id', String(chainId), '--host', '127.0.0.1', '--port', String(port), '--mnemonic', ANVIL_MNEMONIC],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killGroup = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  };
  // A test run or CLI that exits without stop() must not leave anvil behind.
  process.once('exit', killGroup);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killGroup);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
    const timer = setTimeout(killGroup, 2_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<RunningAnvil>((resolve, reject) => {
    let banner = '';
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().finally(() => reject(new ChainStartError(message)));
    };
    const timer = setTimeout(() => fail(`anvil did not listen within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error) => fail(`anvil failed to spawn: ${error.message}`));
    child.once('exit', (code) => fail(`anvil exited early (code ${String(code)}): ${banner.slice(-300)}`));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!settled) banner += chunk.toString('utf8');
    });
    // The pipe keeps being drained after the banner, so anvil never blocks on a full stdout.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) return;
      banner += chunk.toString('utf8');
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(banner);
      if (!match) return;
      settled = true;
      clearTimeout(timer);
      const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, name);
      };
      resolve({ port: Number(match[1]), signal, stop });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8545' }, network: { type: 'string', default: 'base-sepolia' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  const network = z.enum(['base-sepolia', 'base']).safeParse(values.network);
  if (!network.success) throw new Error(`--network must be base-sepolia or base, got "${values.network}"`);
  const chain = await startChain({ port, network: network.data });
  const { rpcUrl, chainId, tokenAddress, multicallAddress } = chain;
  const roles = Object.fromEntries(Object.entries(LOCAL_ACCOUNTS).map(([role, a]) => [role, a.address]));
  console.log(JSON.stringify({ level: 'info', msg: 'local chain ready', rpcUrl, chainId, tokenAddress, multicallAddress, accounts: roles }));
  const shutdown = (): void => void chain.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', msg: 'local chain failed to start', message: String(error) }));
    process.exit(1);
  });
}
