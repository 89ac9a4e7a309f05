import { createPublicClient, getAddress, http, type Address } from 'viem';
import { localChain, tokenAbi } from '../../stack/chain.js';
import type { FacilitatorStats } from '../../stack/facilitator.js';

/**
 * The money reconciliation of a run: 2xx paid responses (the buyer's view), settlements (the
 * facilitator's counters) and on-chain transfers to the seller (the token's logs). Each payment
 * must show up exactly once in all three.
 */
export interface ChainCount {
  /** Transfer events of the token to the seller in the run's blocks. */
  readonly transfers: number;
  /** AuthorizationUsed events (one per EIP-3009 settlement) in the same blocks. */
  readonly authorizationsUsed: number;
  /** Transfers whose value is not exactly the price (a wrong charge). */
  readonly wrongAmount: number;
  /** Seller balance after minus before, in atomic units. */
  readonly balanceDelta: bigint;
}

export interface Reconciliation {
  readonly paid2xx: number;
  readonly settlements: number;
  readonly onChainTransfers: number;
  readonly balanced: boolean;
  /** Why it is not balanced beyond the three numbers, e.g. a balance delta that is not transfers × price. */
  readonly problems: string[];
}

export async function countOnChain(params: { rpcUrl: string; token: Address; seller: Address; fromBlock: bigint; balanceBefore: bigint; price: bigint }): Promise<ChainCount> {
  const client = createPublicClient({ chain: localChain(params.rpcUrl), transport: http(params.rpcUrl) });
  const toBlock = await client.getBlockNumber();
  const range = { address: params.token, abi: tokenAbi, fromBlock: params.fromBlock, toBlock } as const;
  const transfers = await client.getContractEvents({ ...range, eventName: 'Transfer', args: { to: getAddress(params.seller) } });
  const used = await client.getContractEvents({ ...range, eventName: 'AuthorizationUsed' });
  const balanceAfter = await client.readContract({ address: params.token, abi: tokenAbi, functionName: 'balanceOf', args: [getAddress(params.seller)] });
  return {
    transfers: transfers.length,
    authorizationsUsed: used.length,
    wrongAmount: transfers.filter((t) => t.args.value !== params.price).length,
    balanceDelta: balanceAfter - params.balanceBefore,
  };
}

export function reconcile(paid2xx: number, settlements: number, chain: ChainCount, price: bigint): Reconciliation {
  const problems: string[] = [];
  if (chain.authorizationsUsed !== chain.transfers) problems.push(`AuthorizationUsed events ${chain.authorizationsUsed} ≠ transfers ${chain.transfers}`);
  if (chain.wrongAmount > 0) problems.push(`${chain.wrongAmount} transfers of a value other than the price ${price}`);
  if (chain.balanceDelta !== BigInt(chain.transfers) * price) problems.push(`seller balance delta ${chain.balanceDelta} ≠ transfers × price ${BigInt(chain.transfers) * price}`);
  const balanced = paid2xx === settlements && settlements === chain.transfers && problems.length === 0;
  return { paid2xx, settlements, onChainTransfers: chain.transfers, balanced, problems };
}

export function reconciliationLine(r: Reconciliation): string {
  return `2xx paid responses = settlements = on-chain transfers: ${r.paid2xx} = ${r.settlements} = ${r.onChainTransfers} (${r.balanced ? 'balanced' : 'MISMATCH'})`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until no settle is in flight at the facilitator and none started for `quietMs`; bounded. */
export async function waitForSettlesIdle(stats: Readonly<FacilitatorStats>, quietMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const inFlight = stats.settleRequests - stats.settleSucceeded - stats.settleFailed;
    if (stats.settleRequests !== last || inFlight > 0) {
      last = stats.settleRequests;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return true;
    await sleep(50);
  }
  return false;
}
