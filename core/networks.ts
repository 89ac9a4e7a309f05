/** The chains the project knows by name, with their canonical USDC deployment (SPEC §2). */
export interface KnownAsset {
  readonly address: `0x${string}`;
  readonly symbol: string;
  readonly decimals: number;
  readonly eip712Name: string;
  readonly eip712Version: string;
}

export interface KnownNetwork {
  /** x402 v1 network name. */
  readonly name: string;
  /** CAIP-2 id, the x402 v2 network name. */
  readonly caip2: `eip155:${number}`;
  readonly chainId: number;
  readonly usdc: KnownAsset;
}

const usdc = (address: `0x${string}`, eip712Name: string): KnownAsset => ({
  address,
  symbol: 'USDC',
  decimals: 6,
  eip712Name,
  eip712Version: '2',
});

export const NETWORKS: readonly KnownNetwork[] = Object.freeze([
  { name: 'base', caip2: 'eip155:8453', chainId: 8453, usdc: usdc('0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', 'USD Coin') },
  // Base Sepolia's USDC signs with the domain name "USDC", not "USD Coin".
  { name: 'base-sepolia', caip2: 'eip155:84532', chainId: 84532, usdc: usdc('0x036CbD53842c5426634e7929541eC2318f3dCF7e', 'USDC') },
  { name: 'ethereum', caip2: 'eip155:1', chainId: 1, usdc: usdc('0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', 'USD Coin') },
]);

export interface ResolvedNetwork {
  /** v1 name when the chain has one; a chain without one is served to v2 clients only. */
  readonly v1Name?: string;
  readonly caip2: `eip155:${number}`;
  readonly chainId: number;
  /** The chain's USDC, when the project knows it. */
  readonly usdc?: KnownAsset;
}

const CAIP2 = /^eip155:([1-9][0-9]{0,18})$/;

/**
 * Resolve a network as written in an offer (`base`, `base-sepolia`, or CAIP-2 `eip155:<id>`).
 * Returns undefined for a name the table does not know.
 */
export function resolveNetwork(network: string): ResolvedNetwork | undefined {
  const byName = NETWORKS.find((n) => n.name === network);
  if (byName) return { v1Name: byName.name, caip2: byName.caip2, chainId: byName.chainId, usdc: byName.usdc };
  const match = CAIP2.exec(network);
  if (!match) return undefined;
  const chainId = Number(match[1]);
  if (!Number.isSafeInteger(chainId)) return undefined;
  const known = NETWORKS.find((n) => n.chainId === chainId);
  if (known) return { v1Name: known.name, caip2: known.caip2, chainId, usdc: known.usdc };
  return { caip2: `eip155:${chainId}`, chainId };
}
