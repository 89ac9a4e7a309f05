import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { startChain, type LocalChain } from '../../stack/chain.js';
import { startFacilitator, type LocalFacilitator } from '../../stack/facilitator.js';
import { bundleEdge, ROOT } from '../../test/support/edge-bundle.js';
import { sampleOffer, signerVars } from '../../test/support/snapshots.js';
import { benchSnapshot, pushCatalog } from '../catalog.js';
import { startOrigin, type TimedServer } from '../servers.js';
import { startOurEdge, type RunningWorker } from '../workers.js';

/**
 * The local stack for the mixed load, from existing parts, all on 127.0.0.1 with OS-chosen ports:
 * anvil with the EIP-3009 token, the official facilitator over it, a node origin, our edge in
 * workerd through Miniflare's API (not `wrangler dev`, TOOLCHAIN.md), and a signed snapshot pushed
 * to it. Start order chain → facilitator → origin → edge (TOOLCHAIN.md pitfalls).
 */
export const OFFER_NAME = 'load-llm';
export const PAID_PATH = `/services/${OFFER_NAME}`;
export const DISCOVERY_PATHS = ['/api/services.json', '/skill.md', '/.well-known/agent-registration.json'];
/** 1,000 USDC per payer: far more than any bounded run spends at 0.001 USDC a request. */
const PAYER_FUNDS = 1_000_000_000n;

export interface LoadStack {
  readonly chain: LocalChain;
  readonly facilitator: LocalFacilitator;
  readonly origin: TimedServer;
  readonly edge: RunningWorker;
  readonly metricsToken: string;
  readonly payerKeys: Hex[];
  /** Facilitator log entries above info level (failed settles and the like). */
  readonly facilitatorWarnings: Record<string, unknown>[];
  /** How long each settle took at the facilitator (ms, from its log): settles run one at a time. */
  readonly settleMs: number[];
  stop(): Promise<void>;
}

export async function startLoadStack(payers: number, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<LoadStack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const chain = await startChain();
    stops.push(chain.stop);
    log('chain ready', { rpcUrl: chain.rpcUrl });
    const facilitatorWarnings: Record<string, unknown>[] = [];
    const settleMs: number[] = [];
    const facilitator = await startFacilitator({
      rpcUrl: chain.rpcUrl,
      privateKey: chain.accounts.facilitator.privateKey,
      log: (entry) => {
        if (entry.msg === 'settle' && typeof entry.ms === 'number') settleMs.push(entry.ms);
        if (entry.level !== 'info' && facilitatorWarnings.length < 50) facilitatorWarnings.push(entry);
      },
    });
    stops.push(facilitator.stop);
    const origin = await startOrigin();
    stops.push(origin.close);
    const metricsToken = randomBytes(24).toString('hex');
    const script = await bundleEdge(join(ROOT, 'dist', 'mixed-load', 'edge.js'));
    const edge = await startOurEdge(script, {
      ...signerVars(), ORIGIN_URL: origin.url, FACILITATOR_URL: facilitator.url, VERIFY_MODE: 'facilitator', METRICS_TOKEN: metricsToken,
    });
    stops.push(edge.dispose);
    const offer = sampleOffer({ name: OFFER_NAME, namespace: 'bench', spec: { registration: { enabled: true, description: 'mixed load offer', skills: ['chat'], domains: ['ai'] } } });
    await pushCatalog(edge.url, benchSnapshot([offer], 1));
    log('edge ready with a signed snapshot', { url: edge.url, paidPath: PAID_PATH });
    const payerKeys = Array.from({ length: payers }, () => generatePrivateKey());
    for (const key of payerKeys) await chain.mint(privateKeyToAccount(key).address, PAYER_FUNDS);
    log('payers funded', { payers });
    return { chain, facilitator, origin, edge, metricsToken, payerKeys, facilitatorWarnings, settleMs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
