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

const RpcEntry = z.tuple([z.string().regex(/^eip155:[1-9][0-9]*$/), z.string().regex(/^https?:\/\/[^\s,]+$/)]);

/** `CHAIN_RPC_URLS`: comma-separated `<CAIP-2>=<JSON-RPC URL>`, e.g. `eip155:8453=https://rpc.example`. */
export function chainRpcUrls(env: Env): Readonly<Record<string, string>> {
  const entries = (env.CHAIN_RPC_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const urls: Record<string, string> = {};
  for (const entry of entries) {
    const cut = entry.indexOf('=');
    const parsed = RpcEntry.safeParse(cut < 0 ? [entry] : [entry.slice(0, cut), entry.slice(cut + 1)]);
    if (!parsed.success) throw new ConfigError('CHAIN_RPC_URLS', 'must be comma-separated eip155:<id>=<http(s) URL> entries');
    urls[parsed.data[0]] = parsed.data[1];
  }
  return urls;
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
