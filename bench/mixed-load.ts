import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http } from 'viem';
import { localChain } from '../stack/chain.js';
import { ROOT } from '../test/support/edge-bundle.js';
import { flushedChargedCount } from './mixed-load/edge-metrics.js';
import { LoadOptionsError, parseLoadOptions, TRAFFIC_KINDS, type LoadOptions } from './mixed-load/options.js';
import { countOnChain, reconcile, reconciliationLine, waitForSettlesIdle, type Reconciliation } from './mixed-load/reconcile.js';
import { percentile } from './mixed-load/schedule.js';
import { DISCOVERY_PATHS, PAID_PATH, startLoadStack, type LoadStack } from './mixed-load/stack.js';
import { TrafficConfig, type TrafficResult } from './mixed-load/traffic.js';

/**
 * `npm run bench:load [--rate 200] [--duration 15] [--mix discovery=40,unpaid=30,paid=10,replay=10,garbage=10]
 * [--payers 16] [--max-paid-per-sec 25] [--out bench/load-results.json]`: mixed traffic from a
 * second process at a bounded rate and duration against a local stack on 127.0.0.1, then the
 * money reconciliation. Exits 1 on a mismatch or a replay that was served, 2 on bad flags.
 */
function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level: 'info', component: 'bench:load', msg, ...fields })}\n`);
}

async function challengeOf(stack: LoadStack): Promise<{ paymentRequired: TrafficConfig['paymentRequired']; price: bigint }> {
  const res = await fetch(`${stack.edge.url}${PAID_PATH}/v1/chat`);
  await res.arrayBuffer();
  const header = res.headers.get('payment-required');
  if (res.status !== 402 || !header) throw new Error(`the paid path answered ${res.status} without a PAYMENT-REQUIRED challenge`);
  const paymentRequired = TrafficConfig.shape.paymentRequired.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  const amount = (paymentRequired.accepts[0] as { amount?: unknown } | undefined)?.amount;
  if (typeof amount !== 'string' || !/^\d+$/.test(amount)) throw new Error('the challenge names no integer amount');
  return { paymentRequired, price: BigInt(amount) };
}

/** Run the traffic generator in its own node process; config on stdin (it holds payer keys). */
function runTrafficProcess(config: TrafficConfig, boundMs: number): Promise<TrafficResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'mixed-load', 'traffic.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') return reject(new Error(`traffic process exited ${String(code)}: ${err.trim().slice(0, 500)}`));
      resolve(JSON.parse(line) as TrafficResult);
    });
    child.stdin.end(JSON.stringify(config));
  });
}

function printReport(options: LoadOptions, traffic: TrafficResult, rec: Reconciliation, edgeCharged: number | undefined): void {
  const rows = TRAFFIC_KINDS.map((kind) => {
    const k = traffic.kinds[kind];
    const statuses = Object.entries(k.statuses).map(([code, n]) => `${code}×${n}`).join(' ');
    return `${kind.padEnd(10)} ${String(k.requests).padStart(6)} ${(k.completed / traffic.elapsedSec).toFixed(1).padStart(8)} ${k.p50Ms.toFixed(1).padStart(8)} ${k.p99Ms.toFixed(1).padStart(8)} ${String(k.errors).padStart(6)} ${String(k.unexpected).padStart(10)}  ${statuses}`;
  });
  console.log(`\nMixed load: ${options.rate} req/s for ${options.durationSec} s, achieved ${traffic.achievedRate} req/s over ${traffic.elapsedSec} s (${traffic.scheduled} requests incl. 1 seed paid request)`);
  console.log(`${'kind'.padEnd(10)} ${'reqs'.padStart(6)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(6)} ${'unexpected'.padStart(10)}  statuses`);
  for (const row of rows) console.log(row);
  for (const kind of TRAFFIC_KINDS) {
    const reasons = Object.entries(traffic.kinds[kind].unexpectedReasons);
    if (reasons.length) console.log(`  unexpected or failed ${kind}: ${reasons.map(([r, n]) => `${r} ×${n}`).join(', ')}`);
  }
  console.log(`replays served (must be 0): ${traffic.replay2xx}; distinct receipt transactions: ${traffic.receiptTransactions}; edge charged_requests_total: ${edgeCharged ?? 'not flushed in time'}`);
  for (const p of rec.problems) console.log(`  problem: ${p}`);
  console.log(reconciliationLine(rec));
}

/** Settles run one at a time, so 1000 / (median settle ms) bounds the paid rate the stack absorbs. */
function settleCapacity(settleMs: number[], options: LoadOptions) {
  const p50Ms = percentile(settleMs, 50);
  const p99Ms = percentile(settleMs, 99);
  const capacityPerSec = p50Ms > 0 ? Math.round(10_000 / p50Ms) / 10 : 0;
  const offeredPerSec = (options.rate * options.mix.paid) / 100;
  const line = `facilitator settle p50 ${p50Ms} ms / p99 ${p99Ms} ms over ${settleMs.length} settles → at most ≈ ${capacityPerSec} settles/s one at a time; offered ${offeredPerSec} paid req/s`;
  return { p50Ms, p99Ms, capacityPerSec, offeredPerSec, line };
}

/** Notes explain a mismatch or a slow run; they never turn a mismatch into a balance. */
function notesFor(traffic: TrafficResult): string[] {
  const notes: string[] = [];
  const paidTimeouts = traffic.kinds.paid.timeouts + traffic.kinds.replay.timeouts;
  if (paidTimeouts > 0) notes.push(`${paidTimeouts} paid requests timed out at the client: the edge may have settled them without the buyer seeing the 2xx (overloaded machine?)`);
  const unknown = traffic.kinds.paid.statuses['503'] ?? 0;
  if (unknown > 0) notes.push(`${unknown} paid requests answered 503 (settlement_unknown or facilitator_unreachable): the settle queue outran the edge's facilitator timeout; those settled later without a 2xx (SPEC §5 pending). Lower --rate or the paid share`);
  const skipped = TRAFFIC_KINDS.reduce((n, k) => n + traffic.kinds[k].skipped, 0);
  if (skipped > 0) notes.push(`${skipped} requests skipped: 512 were already in flight (the stack fell behind the offered rate)`);
  return notes;
}

async function measure(options: LoadOptions, stack: LoadStack): Promise<{ ok: boolean; results: Record<string, unknown> }> {
  const { paymentRequired, price } = await challengeOf(stack);
  const seller = stack.chain.accounts.seller.address;
  const client = createPublicClient({ chain: localChain(stack.chain.rpcUrl), transport: http(stack.chain.rpcUrl) });
  const fromBlock = (await client.getBlockNumber()) + 1n;
  const balanceBefore = await stack.chain.balanceOf(seller);
  const settledBefore = stack.facilitator.stats.settleSucceeded;
  const settlesBefore = stack.settleMs.length;
  const loadBefore = loadavg()[0] ?? 0;
  log('traffic starting', { rate: options.rate, durationSec: options.durationSec, mix: options.mix });
  const traffic = await runTrafficProcess({
    edgeUrl: stack.edge.url, paidPath: PAID_PATH, discoveryPaths: DISCOVERY_PATHS, rate: options.rate, durationSec: options.durationSec,
    mix: options.mix, paymentRequired, payerKeys: stack.payerKeys,
  }, options.durationSec * 1_000 + 180_000);
  const loadAfter = loadavg()[0] ?? 0;
  const idle = await waitForSettlesIdle(stack.facilitator.stats, 500, 15_000);
  const edgeCharged = await flushedChargedCount(stack.edge.url, `${PAID_PATH}/v1/chat`, stack.metricsToken);
  const chain = await countOnChain({ rpcUrl: stack.chain.rpcUrl, token: stack.chain.tokenAddress, seller, fromBlock, balanceBefore, price });
  const settlements = stack.facilitator.stats.settleSucceeded - settledBefore;
  const rec = reconcile(traffic.paid2xx, settlements, chain, price);
  const problems = [...rec.problems];
  if (!idle) problems.push('the facilitator was still settling 15 s after the traffic ended');
  const notes = notesFor(traffic);
  const settle = settleCapacity(stack.settleMs.slice(settlesBefore), options);
  notes.push(settle.line);
  if (edgeCharged !== undefined && edgeCharged !== traffic.paid2xx) problems.push(`edge charged_requests_total ${edgeCharged} ≠ 2xx paid responses ${traffic.paid2xx}`);
  const final: Reconciliation = { ...rec, problems, balanced: rec.balanced && problems.length === 0 };
  printReport(options, traffic, final, edgeCharged);
  for (const n of notes) console.log(`  note: ${n}`);
  // Other work on the same two cores shows up in every latency figure; say how busy the machine was.
  console.log(`machine: ${cpus().length} cores, 1-min load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after the traffic`);
  const results = {
    measuredAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadAverage1m: { before: loadBefore, after: loadAfter } },
    options, priceAtomic: price.toString(), traffic, facilitator: { ...stack.facilitator.stats, transactions: undefined, warnings: stack.facilitatorWarnings.slice(0, 10) },
    settle: { p50Ms: settle.p50Ms, p99Ms: settle.p99Ms, capacityPerSec: settle.capacityPerSec, offeredPaidPerSec: settle.offeredPerSec },
    chain: { ...chain, balanceDelta: chain.balanceDelta.toString() }, edgeChargedRequests: edgeCharged ?? null,
    reconciliation: { ...final, notes, line: reconciliationLine(final) },
  };
  return { ok: final.balanced && traffic.replay2xx === 0, results };
}

async function main(): Promise<number> {
  let options: LoadOptions;
  try {
    options = parseLoadOptions(process.argv.slice(2), join(ROOT, 'bench', 'load-results.json'));
  } catch (error) {
    if (!(error instanceof LoadOptionsError)) throw error;
    process.stderr.write(`bench:load: ${error.message} [${error.reason}]\n`);
    return 2;
  }
  const stack = await startLoadStack(options.payers, log);
  try {
    const { ok, results } = await measure(options, stack);
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${options.out}`);
    return ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  // Exit explicitly: a disposed workerd can leave a handle that keeps node alive.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:load failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
