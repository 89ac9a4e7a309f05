import { join } from 'node:path';
import { createPublicClient, http, parseEventLogs, type Hex } from 'viem';
import { z } from 'zod';
import { LOCAL_ACCOUNTS, LOCAL_POLLING_MS, localChain, tokenAbi, TOKEN_ADDRESS } from '../../stack/chain.js';
import { makeBuyerFetch } from '../../stack/buyer.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../stack/local-stack.js';
import { ROOT } from '../support/edge-bundle.js';

/** Shared pieces of the end-to-end tests: one real stack per file, a recording buyer, chain reads. */

export const EXAMPLE_OFFERS = join(ROOT, 'examples', 'offers');
export const EXAMPLE_IDENTITY = join(ROOT, 'examples', 'identity.yaml');

/** The stack on ports chosen by the OS; its logs are kept (and printed only if it fails to start). */
export async function startE2EStack(overrides: Partial<LocalStackOptions> = {}): Promise<{ stack: LocalStack; logs: string[] }> {
  const logs: string[] = [];
  try {
    const stack = await startLocalStack({
      offersDir: EXAMPLE_OFFERS,
      identityFile: EXAMPLE_IDENTITY,
      log: (part, line) => void logs.push(`[${part}] ${line}`),
      readyTimeoutMs: 40_000,
      ...overrides,
    });
    return { stack, logs };
  } catch (error) {
    process.stderr.write(`${logs.slice(-40).join('\n')}\n`);
    throw error;
  }
}

/** The buyer's and the seller's token balances on the stack's chain. */
export async function buyerAndSellerBalances(stack: LocalStack): Promise<{ buyer: bigint; seller: bigint }> {
  const [buyer, seller] = await Promise.all([
    stack.chain.balanceOf(stack.accounts.buyer.address),
    stack.chain.balanceOf(stack.accounts.seller.address),
  ]);
  return { buyer, seller };
}

/** The official client paying from the buyer's key, recording the payment headers it sent. */
export function recordingBuyer(version: 1 | 2): { pay: typeof fetch; sent: Headers[] } {
  const sent: Headers[] = [];
  const transport: typeof fetch = (input, init) => {
    if (input instanceof Request) sent.push(new Headers(input.headers));
    return fetch(input, init);
  };
  return { pay: makeBuyerFetch({ privateKey: LOCAL_ACCOUNTS.buyer.privateKey, version, fetch: transport }), sent };
}

const ServiceEntry = z.object({ name: z.string(), priceAtomicUnits: z.string(), payTo: z.string(), drainEndsAt: z.string().optional() });
export const ServicesDocument = z.object({ schemaVersion: z.literal('1'), services: z.array(ServiceEntry) });
export type ServiceEntry = z.infer<typeof ServiceEntry>;

export async function services(edgeUrl: string): Promise<ServiceEntry[]> {
  const res = await fetch(`${edgeUrl}/api/services.json`);
  if (res.status !== 200) throw new Error(`services.json answered ${res.status}`);
  return ServicesDocument.parse(await res.json()).services;
}

export async function serviceNamed(edgeUrl: string, name: string): Promise<ServiceEntry> {
  const entry = (await services(edgeUrl)).find((s) => s.name === name);
  if (!entry) throw new Error(`${name} is not in services.json`);
  return entry;
}

export interface TokenTransfer {
  readonly from: string;
  readonly to: string;
  readonly value: bigint;
}

/** The token Transfers of a mined transaction (throws when the hash is not a mined tx); default the first chain's token. */
export async function tokenTransfers(rpcUrl: string, hash: string, token: string = TOKEN_ADDRESS): Promise<{ status: string; transfers: TokenTransfer[] }> {
  const client = createPublicClient({ transport: http(rpcUrl), pollingInterval: LOCAL_POLLING_MS });
  const receipt = await client.getTransactionReceipt({ hash: hash as Hex });
  const logs = parseEventLogs({ abi: tokenAbi, logs: receipt.logs, eventName: 'Transfer' }).filter(
    (log) => log.address.toLowerCase() === token.toLowerCase(),
  );
  return { status: receipt.status, transfers: logs.map((log) => ({ from: log.args.from, to: log.args.to, value: log.args.value })) };
}

/** Poll until `check` returns true or the deadline passes. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
