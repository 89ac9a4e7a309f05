import { createPublicClient, http, parseAbi, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { resolveNetwork } from '../../../core/networks.js';
import { ConfigError, type Env } from '../env.js';

/**
 * Reads whether an EIP-3009 authorization was executed on chain (`authorizationState(from, nonce)`).
 * A pending settlement is resolved this way, never by POSTing /settle again: for an x402
 * facilitator a second /settle IS a settlement, and would charge a buyer whose body was withheld.
 */

const AUTHORIZATION_STATE_ABI = parseAbi(['function authorizationState(address authorizer, bytes32 nonce) view returns (bool)']);

const RpcUrls = z.record(z.string().regex(/^eip155:[1-9][0-9]*$/), z.string().url());

/** `CHAIN_RPC_URLS`: a JSON object from CAIP-2 network to a JSON-RPC URL, e.g. `{"eip155:8453":"https://…"}`. */
export function chainRpcUrls(env: Env): Readonly<Record<string, string>> {
  if (!env.CHAIN_RPC_URLS) return {};
  let json: unknown;
  try {
    json = JSON.parse(env.CHAIN_RPC_URLS);
  } catch {
    throw new ConfigError('CHAIN_RPC_URLS', 'must be a JSON object like {"eip155:8453":"https://rpc.example"}');
  }
  const parsed = RpcUrls.safeParse(json);
  if (!parsed.success) throw new ConfigError('CHAIN_RPC_URLS', 'must map CAIP-2 ids (eip155:<id>) to http(s) URLs');
  return parsed.data;
}

/** The CAIP-2 id of a requirement's network, written either as a v1 name or as CAIP-2. */
export function caip2Of(network: string): string | undefined {
  return resolveNetwork(network)?.caip2;
}

export async function authorizationUsed(params: {
  rpcUrl: string;
  asset: string;
  authorizer: string;
  nonce: string;
  timeoutMs: number;
}): Promise<boolean> {
  const client = createPublicClient({ transport: http(params.rpcUrl, { timeout: params.timeoutMs, retryCount: 0 }) });
  return client.readContract({
    address: params.asset as Address,
    abi: AUTHORIZATION_STATE_ABI,
    functionName: 'authorizationState',
    args: [params.authorizer as Address, params.nonce as Hex],
  });
}
