import { getAddress, isAddress, type Address } from 'viem';

/**
 * Where the official ERC-8004 Identity Registry lives on public chains, and the CAIP-10 form
 * (`eip155:<chainId>:<address>`) a registration names it by.
 *
 * Source: the deployment list in the README of github.com/erc-8004/erc-8004-contracts (the EIP
 * authors' reference implementation; read at commit b9e466c, 2026-08-15), which names chains and
 * addresses; the chain ids are the ones its `scripts/addresses.ts` deploys to. The EIP text itself
 * has no deployment table. Every mainnet shares one address and every testnet another (CREATE2).
 * Left out: chains whose id that repository does not state unambiguously (e.g. Taiko Hoodi is
 * 167012 in one file and 167013 in another). `agent0-sdk`'s DEFAULT_REGISTRIES agrees on the
 * chains it lists (registries.test.ts).
 */

const MAINNET: Address = '0x8004A169FB4a3325136EB29fA0ceB6D2e539a432';
const TESTNET: Address = '0x8004A818BFB912233c491871b3d84c89A494BD9e';

export interface PublicIdentityRegistry {
  readonly chainId: number;
  readonly chain: string;
  readonly identityRegistry: Address;
}

const mainnet = (chainId: number, chain: string): PublicIdentityRegistry => ({ chainId, chain, identityRegistry: MAINNET });
const testnet = (chainId: number, chain: string): PublicIdentityRegistry => ({ chainId, chain, identityRegistry: TESTNET });

export const PUBLIC_IDENTITY_REGISTRIES: readonly PublicIdentityRegistry[] = Object.freeze([
  mainnet(1, 'Ethereum'),
  testnet(11155111, 'Ethereum Sepolia'),
  mainnet(8453, 'Base'),
  testnet(84532, 'Base Sepolia'),
  mainnet(42161, 'Arbitrum One'),
  testnet(421614, 'Arbitrum Sepolia'),
  mainnet(10, 'OP Mainnet'),
  testnet(11155420, 'OP Sepolia'),
  mainnet(137, 'Polygon'),
  testnet(80002, 'Polygon Amoy'),
  mainnet(43114, 'Avalanche C-Chain'),
  testnet(43113, 'Avalanche Fuji'),
  mainnet(56, 'BNB Smart Chain'),
  testnet(97, 'BNB Smart Chain Testnet'),
  mainnet(100, 'Gnosis'),
  mainnet(42220, 'Celo'),
  testnet(11142220, 'Celo Sepolia'),
  mainnet(59144, 'Linea'),
  testnet(59141, 'Linea Sepolia'),
  mainnet(534352, 'Scroll'),
  testnet(534351, 'Scroll Sepolia'),
  mainnet(5000, 'Mantle'),
  testnet(5003, 'Mantle Sepolia'),
  mainnet(143, 'Monad'),
  testnet(10143, 'Monad Testnet'),
]);

/** The official registry on `chainId`, if the table has one. */
export function publicIdentityRegistry(chainId: number): PublicIdentityRegistry | undefined {
  return PUBLIC_IDENTITY_REGISTRIES.find((r) => r.chainId === chainId);
}

export type AgentRegistryId = `eip155:${number}:${Address}`;

/** CAIP-10 account id of a registry: `eip155:<chainId>:<checksummed address>`. */
export function agentRegistryId(chainId: number, registry: Address): AgentRegistryId {
  return `eip155:${chainId}:${getAddress(registry)}`;
}

const CAIP10 = /^eip155:([1-9][0-9]{0,18}):(0x[0-9a-fA-F]{40})$/;

/** The chain id and address of an `eip155:<chainId>:<address>` registry id, or undefined. */
export function parseAgentRegistryId(value: string): { chainId: number; registry: Address } | undefined {
  const match = CAIP10.exec(value);
  if (!match?.[1] || !match[2] || !isAddress(match[2], { strict: false })) return undefined;
  const chainId = Number(match[1]);
  return Number.isSafeInteger(chainId) ? { chainId, registry: getAddress(match[2]) } : undefined;
}

/** Same chain and same address (addresses compared case-insensitively). */
export function sameAgentRegistry(a: string, b: string): boolean {
  const x = parseAgentRegistryId(a);
  const y = parseAgentRegistryId(b);
  return x !== undefined && y !== undefined && x.chainId === y.chainId && x.registry === y.registry;
}
