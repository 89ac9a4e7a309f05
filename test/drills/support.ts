import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { afterAll, beforeAll, expect } from 'vitest';
import type { PaymentRequirement } from '../../core/requirement.js';
import type { SnapshotOffer } from '../../core/snapshot.js';
import { readReceipt } from '../../stack/buyer.js';
import { LOCAL_ACCOUNTS, startChain, type LocalChain } from '../../stack/chain.js';
import { startFacilitator, type LocalFacilitator } from '../../stack/facilitator.js';
import { startEdge, type TestEdge } from '../support/edge.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { paymentHeaders, signPayment } from '../support/payments.js';
import { makeSnapshot, pushSnapshot, sampleOffer, signerVars } from '../support/snapshots.js';

/**
 * The drills' stack: a real chain + token, the official facilitator (restartable on its port), a
 * controllable origin and the real edge in workerd over a persist dir (restartable), plus a ledger
 * of what was delivered so every drill can reconcile money against the chain.
 */

export const SELLER: Address = LOCAL_ACCOUNTS.seller.address;
/** Per-payer funding: 10 USDC, far more than any drill spends. */
const PAYER_FUNDS = 10_000_000n;

export interface DrillStack {
  readonly chain: LocalChain;
  readonly origin: TestOrigin;
  readonly edge: TestEdge;
  readonly facilitator: LocalFacilitator;
  readonly offer: SnapshotOffer;
  readonly requirement: PaymentRequirement;
  readonly payers: PrivateKeyAccount[];
  readonly ledger: DeliveryLedger;
  /** Successful settlements over every facilitator instance of this stack. */
  settlements(): number;
  stopFacilitator(): Promise<void>;
  startFacilitator(): Promise<void>;
  /** Dispose the edge and start a new one over the same Durable Object state. */
  restartEdge(): Promise<void>;
  /** Token balances of the seller and every payer. */
  balances(): Promise<Map<Address, bigint>>;
  /** Sign one authorization for the offer (reusable across requests). */
  sign(payer: PrivateKeyAccount, options?: { version?: 1 | 2; path?: string }): Promise<Record<string, string>>;
  /** GET `path` with these payment headers; the ledger records a delivered paid response. */
  paidGet(path: string, headers: Record<string, string>, payer: Address): Promise<Response>;
  dispose(): Promise<void>;
}

/** Counts delivered (2xx with a successful receipt) paid responses per payer. */
export class DeliveryLedger {
  readonly deliveredByPayer = new Map<Address, number>();

  record(res: Response, payer: Address): void {
    if (res.status < 200 || res.status > 299) return;
    const receipt = readReceipt(res);
    // A 2xx without a successful receipt would be content delivered unpaid.
    expect(receipt?.success, `2xx without a successful receipt for ${payer}`).toBe(true);
    const key = getAddress(payer);
    this.deliveredByPayer.set(key, (this.deliveredByPayer.get(key) ?? 0) + 1);
  }

  total(): number {
    return [...this.deliveredByPayer.values()].reduce((a, b) => a + b, 0);
  }
}

export interface StartDrillOptions {
  payers?: number;
  edgeVars?: Record<string, string>;
  offer?: SnapshotOffer;
  /** Skip the initial catalog push (a drill whose agent pushes). */
  push?: boolean;
  catalogSigners?: string;
}

/** The official facilitator on one fixed port, stoppable and restartable; settlements summed over instances. */
export interface FacilitatorSlot {
  readonly url: string;
  current(): LocalFacilitator;
  settlements(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function startFacilitatorSlot(rpcUrl: string): Promise<FacilitatorSlot> {
  // The facilitator logs a JSON line per call; the drills keep them in memory instead of stdout.
  const log: Array<Record<string, unknown>> = [];
  const startOne = (port: number): Promise<LocalFacilitator> =>
    startFacilitator({ rpcUrl, privateKey: LOCAL_ACCOUNTS.facilitator.privateKey, port, log: (e) => log.push(e) });
  let running: LocalFacilitator | undefined = await startOne(0);
  const url = running.url;
  const port = Number(new URL(url).port);
  let earlier = 0;
  return {
    url,
    current() {
      if (!running) throw new Error('the facilitator is stopped');
      return running;
    },
    settlements: () => earlier + (running?.stats.settleSucceeded ?? 0),
    async stop() {
      if (!running) return;
      earlier += running.stats.settleSucceeded;
      await running.stop();
      running = undefined;
    },
    async start() {
      if (!running) running = await startOne(port);
    },
  };
}

async function startPayers(chain: LocalChain, count: number): Promise<PrivateKeyAccount[]> {
  const payers = [privateKeyToAccount(LOCAL_ACCOUNTS.buyer.privateKey)];
  while (payers.length < count) payers.push(privateKeyToAccount(generatePrivateKey()));
  for (const payer of payers.slice(1)) await chain.mint(payer.address, PAYER_FUNDS);
  return payers;
}

export async function startDrillStack(options: StartDrillOptions = {}): Promise<DrillStack> {
  const cleanups: Array<() => Promise<void>> = [];
  const persistDir = mkdtempSync(join(tmpdir(), 'obol-drill-'));
  cleanups.push(async () => rmSync(persistDir, { recursive: true, force: true }));
  try {
    const chain = await startChain();
    cleanups.unshift(() => chain.stop());
    const payers = await startPayers(chain, options.payers ?? 1);
    const facilitator = await startFacilitatorSlot(chain.rpcUrl);
    cleanups.unshift(() => facilitator.stop());
    const origin = await startOrigin();
    cleanups.unshift(() => origin.close());
    const vars = {
      ...(options.catalogSigners ? { CATALOG_SIGNERS: options.catalogSigners } : signerVars()),
      FACILITATOR_URL: facilitator.url, ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '1500', FACILITATOR_TIMEOUT_MS: '1500', FACILITATOR_SETTLE_TIMEOUT_MS: '1500',
      // Lets the ledger resolve a settlement of unknown outcome by reading the chain (never by re-settling).
      CHAIN_RPC_URLS: `eip155:84532=${chain.rpcUrl}`,
      ...options.edgeVars,
    };
    const edge = { current: await startEdge({ vars, persistDir }) };
    cleanups.unshift(async () => { await edge.current.dispose().catch(() => undefined); });
    const offer = options.offer ?? sampleOffer({ name: 'drill' });
    if (options.push !== false) {
      const pushed = await pushSnapshot(edge.current, makeSnapshot({ offers: [offer], sequence: Date.now() }));
      if (pushed.status !== 200) throw new Error(`catalog push failed: ${pushed.status} ${await pushed.text()}`);
    }
    const restartEdge = async (): Promise<void> => {
      await edge.current.dispose();
      edge.current = await startEdge({ vars, persistDir });
    };
    const dispose = async (): Promise<void> => {
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    };
    return assembleStack({ chain, origin, payers, offer, facilitator, edge, restartEdge, dispose });
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}

interface StackParts {
  chain: LocalChain;
  origin: TestOrigin;
  payers: PrivateKeyAccount[];
  offer: SnapshotOffer;
  facilitator: FacilitatorSlot;
  edge: { current: TestEdge };
  restartEdge(): Promise<void>;
  dispose(): Promise<void>;
}

function assembleStack(p: StackParts): DrillStack {
  const requirement = p.offer.requirement;
  if (!requirement) throw new Error('the drill offer has no payment requirement');
  const ledger = new DeliveryLedger();
  return {
    chain: p.chain, origin: p.origin, payers: p.payers, offer: p.offer, requirement, ledger,
    get edge() { return p.edge.current; },
    get facilitator() { return p.facilitator.current(); },
    settlements: () => p.facilitator.settlements(),
    stopFacilitator: () => p.facilitator.stop(),
    startFacilitator: () => p.facilitator.start(),
    restartEdge: p.restartEdge,
    async balances() {
      const out = new Map<Address, bigint>();
      for (const who of [SELLER, ...p.payers.map((x) => x.address)]) out.set(getAddress(who), await p.chain.balanceOf(who));
      return out;
    },
    async sign(payer, options = {}) {
      const path = options.path ?? p.offer.path;
      const payment = await signPayment({ requirement, version: options.version ?? 2, account: payer, resourceUrl: `https://edge.test${path}` });
      return paymentHeaders(payment);
    },
    async paidGet(path, headers, payer) {
      const res = await p.edge.current.fetch(path, { headers });
      ledger.record(res, payer);
      return res;
    },
    dispose: p.dispose,
  };
}

export interface Reconciliation {
  deliveredByPayer: ReadonlyMap<Address, number>;
  /** Atomic units per request. */
  price: bigint;
  balancesBefore: ReadonlyMap<Address, bigint>;
  balancesAfter: ReadonlyMap<Address, bigint>;
  /** Successful settlements the facilitator reported. */
  settlements: number;
  seller?: Address;
  /**
   * Charges with no delivered response, declared by the drill: a /settle whose answer was lost
   * (503 settlement_unknown) but which executed on chain anyway. See docs/failure-drills.md.
   */
  chargedUndelivered?: ReadonlyMap<Address, number>;
}

/** Seller gain = Σ delivered × price; each payer's loss = their delivered × price; settlements = delivered. */
export function assertMoneyReconciles(r: Reconciliation): void {
  const seller = getAddress(r.seller ?? SELLER);
  const balance = (map: ReadonlyMap<Address, bigint>, who: Address): bigint => {
    const value = map.get(getAddress(who));
    if (value === undefined) throw new Error(`no balance recorded for ${who}`);
    return value;
  };
  let delivered = 0n;
  for (const who of r.balancesBefore.keys()) {
    if (getAddress(who) === seller) continue;
    const count = BigInt(r.deliveredByPayer.get(getAddress(who)) ?? 0) + BigInt(r.chargedUndelivered?.get(getAddress(who)) ?? 0);
    delivered += count;
    expect(balance(r.balancesBefore, who) - balance(r.balancesAfter, who), `loss of payer ${who}`).toBe(count * r.price);
  }
  expect(balance(r.balancesAfter, seller) - balance(r.balancesBefore, seller), 'seller gain').toBe(delivered * r.price);
  expect(r.settlements, 'facilitator settlements').toBe(Number(delivered));
}

/** The body's `error` / `reason` fields of a JSON answer. */
export async function errorOf(res: Response): Promise<{ error?: string; reason?: string }> {
  const text = await res.text();
  try {
    return JSON.parse(text) as { error?: string; reason?: string };
  } catch {
    return { error: text.slice(0, 200) };
  }
}

/** A drill file's stack: started before its tests (with every payer's balance at that moment), disposed after. */
export interface DrillFixture {
  readonly stack: DrillStack;
  readonly before: Map<Address, bigint>;
}

export function useDrillStack(options: StartDrillOptions = {}): DrillFixture {
  let stack: DrillStack | undefined;
  let before: Map<Address, bigint> | undefined;
  beforeAll(async () => {
    stack = await startDrillStack(options);
    before = await stack.balances();
  }, 30_000);
  afterAll(async () => { await stack?.dispose(); }, 15_000);
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the drill stack is not started (use it inside a test)');
    return value;
  };
  return { get stack() { return started(stack); }, get before() { return started(before); } };
}
