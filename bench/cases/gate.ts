import { runLoad } from '../child-load.js';
import { atLeast, atMost, info, median, type BenchResults } from '../figures.js';
import type { LoadResult } from '../load.js';
import type { TimedServer } from '../servers.js';
import { capture, startConstantWorker, type RunningWorker } from '../workers.js';
import { cpuMs } from '../workerd-cpu.js';

/**
 * Case 3: the payment gate. Paid requests through our gate (facilitator and local verify mode) vs
 * the official @x402/hono middleware over the same origin and the same 20 ms facilitator stub;
 * the 402 challenge vs a constant 402; the gate's own work per paid request.
 */
export const PAID_PATH = '/services/svc-00500/v1/chat';
const THROUGHPUT = { connections: 10, durationSec: 4, warmupSec: 0.5 };
const CHALLENGE_ROUNDS = 5;
/** Paid runs are closed loops timed to the microsecond, long enough that a p99 is the 99th percentile. */
const PAID_LATENCY = { connections: 1, durationSec: 30, closedLoop: { requests: 600, warmupRequests: 30 } };
const PAID_THROUGHPUT = { connections: 10, durationSec: 30, closedLoop: { requests: 3000, warmupRequests: 100 } };
const signedFor = (run: { closedLoop: { requests: number; warmupRequests: number } }) => run.closedLoop.requests + run.closedLoop.warmupRequests;

type MeasuredWorker = RunningWorker & { readonly pid?: number };

export interface GateTargets {
  readonly official: MeasuredWorker;
  readonly ourFacilitator: MeasuredWorker;
  /** Our gate over the same catalog with three ways to pay per offer (`benchOffers(n, 3)`). */
  readonly ourThreeOptions: MeasuredWorker;
  readonly ourLocal: MeasuredWorker;
  readonly origin: TimedServer;
  readonly facilitator: TimedServer;
}

function decodeChallenge(header: string | undefined): unknown {
  if (!header) throw new Error('402 without a PAYMENT-REQUIRED header');
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
}

async function challengeOf(worker: RunningWorker): Promise<unknown> {
  const c = await capture(worker.url, PAID_PATH);
  if (c.status !== 402) throw new Error(`unpaid request answered ${c.status}: ${c.body.slice(0, 200)}`);
  return decodeChallenge(c.headers['payment-required']);
}

/** `label` names the catalog variant, e.g. " (3 options)"; its figures sit beside the one-option ones. */
export async function challengeCase(ours: RunningWorker, results: BenchResults, label = ''): Promise<void> {
  const challenge = await capture(ours.url, PAID_PATH);
  if (challenge.status !== 402) {
    results.unavailable.push({ case: `402 challenge${label}`, reason: `unpaid request answered ${challenge.status}: ${challenge.body.slice(0, 120)}` });
    return;
  }
  const constant = await startConstantWorker([challenge]);
  try {
    const load = { ...THROUGHPUT, expectStatus: 402 };
    // Alternated rounds, the median ratio: one 4 s run each swung ±20 % with what else the 2 cores did.
    const ratios: number[] = [];
    for (let round = 0; round < CHALLENGE_ROUNDS; round++) {
      const a = await runLoad({ url: `${ours.url}${PAID_PATH}`, ...load });
      const b = await runLoad({ url: `${constant.url}${PAID_PATH}`, ...load });
      ratios.push(a.requestsPerSec / b.requestsPerSec);
      results.runs[`402 challenge (ours${label})`] = a;
      results.runs[`402 challenge (constant 402${label})`] = b;
    }
    results.figures.push(atLeast(`402 challenge throughput ours/constant${label}`, median(ratios), '×', 0.9, `median of ${CHALLENGE_ROUNDS} alternated rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}`));
  } finally {
    await constant.dispose();
  }
}

interface PaidRun {
  readonly latency: LoadResult;
  readonly throughput: LoadResult;
  /** p50 at one connection minus the facilitator's and the origin's own handler time. */
  readonly gateWorkMs: number;
  /** The worker's workerd CPU per paid request over the 10-connection run, background work included. */
  readonly cpuMsPerRequest?: number;
}

/** Background work (ledger writes, metrics flushes) ends within about a second of the last answer. */
const SETTLE_MS = 1500;

/** The challenge narrowed to its last option: the buyer pays the option the gate's match reaches last. */
function lastOptionOnly(challenge: unknown): unknown {
  const { accepts } = challenge as { accepts: unknown[] };
  return { ...(challenge as object), accepts: accepts.slice(-1) };
}

async function paidRuns(name: string, worker: MeasuredWorker, t: GateTargets, results: BenchResults, pay: (challenge: unknown) => unknown = (c) => c): Promise<PaidRun> {
  const paymentRequired = pay(await challengeOf(worker));
  const url = `${worker.url}${PAID_PATH}`;
  t.facilitator.reset();
  t.origin.reset();
  const latency = await runLoad({ url, expectStatus: 200, ...PAID_LATENCY, payment: { paymentRequired, count: signedFor(PAID_LATENCY) } });
  const own = (server: TimedServer, path: string) => median(server.timings.get(path) ?? []);
  const calls = (server: TimedServer, path: string) => (server.timings.get(path) ?? []).length;
  const perRequest = (path: string) => (calls(t.facilitator, path) > 0 ? own(t.facilitator, path) : 0);
  const originMs = median([...t.origin.timings.values()].flat());
  const gateWorkMs = latency.latencyP50 - perRequest('/verify') - perRequest('/settle') - originMs;
  const cpuBefore = cpuMs(worker.pid);
  const throughput = await runLoad({ url, expectStatus: 200, ...PAID_THROUGHPUT, payment: { paymentRequired, count: signedFor(PAID_THROUGHPUT) } });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const cpuAfter = cpuMs(worker.pid);
  const cpuMsPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / signedFor(PAID_THROUGHPUT);
  results.runs[`paid ${name} (1 conn)`] = latency;
  results.runs[`paid ${name} (10 conn)`] = throughput;
  return { latency, throughput, gateWorkMs, ...(cpuMsPerRequest === undefined ? {} : { cpuMsPerRequest }) };
}

/** Paid rounds of the official middleware and ours, alternated: one pair of runs swung ±5 % with what else the 2 cores did. */
const PAID_ROUNDS = 3;

const ratio = (a: number, b: number) => a / Math.max(b, 0.001);

/** The median over the rounds of ours/official for one measure, with each round's value for the note. */
function roundsRatio(rounds: readonly { ours: PaidRun; official: PaidRun }[], measure: (run: PaidRun) => number | undefined): { value: number; note: string } | undefined {
  const ratios: number[] = [];
  for (const round of rounds) {
    const [ours, official] = [measure(round.ours), measure(round.official)];
    if (ours === undefined || official === undefined) return undefined;
    ratios.push(ratio(ours, official));
  }
  return { value: median(ratios), note: `median of ${ratios.length} alternated rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}` };
}

export async function paidCase(t: GateTargets, results: BenchResults): Promise<void> {
  const rounds: { ours: PaidRun; official: PaidRun }[] = [];
  for (let round = 0; round < PAID_ROUNDS; round++) {
    const official = await paidRuns('official @x402/hono', t.official, t, results);
    rounds.push({ official, ours: await paidRuns('ours facilitator', t.ourFacilitator, t, results) });
  }
  // The single-run comparisons below take the official's median round for each measure.
  const officialMedian = (measure: (run: PaidRun) => number) => median(rounds.map((r) => measure(r.official)));
  const official = {
    throughput: { requestsPerSec: officialMedian((r) => r.throughput.requestsPerSec) },
    latency: { latencyP50: officialMedian((r) => r.latency.latencyP50) },
    gateWorkMs: officialMedian((r) => r.gateWorkMs),
  };
  const ourL = await paidRuns('ours local', t.ourLocal, t, results);
  const ourThree = await paidRuns('ours facilitator, 3 options', t.ourThreeOptions, t, results, lastOptionOnly);
  const ourF = { gateWorkMs: median(rounds.map((r) => r.ours.gateWorkMs)), total: rounds.reduce((sum, r) => sum + r.ours.throughput.total, 0) };
  const of = (measure: (run: PaidRun) => number | undefined) => roundsRatio(rounds, measure) ?? { value: Number.NaN, note: 'not measured' };
  const throughput = of((r) => r.throughput.requestsPerSec);
  const p50One = of((r) => r.latency.latencyP50);
  const p50Ten = of((r) => r.throughput.latencyP50);
  const p99Ten = of((r) => r.throughput.latencyP99);
  const gateWork = of((r) => r.gateWorkMs);
  const cpu = roundsRatio(rounds, (r) => r.cpuMsPerRequest);
  results.figures.push(
    atLeast('paid throughput ours(facilitator)/official', throughput.value, '×', 1.0, `10 connections; ${throughput.note}`),
    atMost('paid p50 ours(facilitator)/official, 1 connection', p50One.value, '×', 1.0, p50One.note),
    atMost('paid p50 ours(facilitator)/official, 10 connections', p50Ten.value, '×', 1.0, p50Ten.note),
    atMost('paid p99 ours(facilitator)/official, 10 connections', p99Ten.value, '×', 1.2, `${ourF.total} requests over the rounds; ${p99Ten.note}`),
    atMost('gate work per paid request ours(facilitator)/official', gateWork.value, '×', 1.5, `p50 at 1 connection − verify − settle − origin; ${gateWork.note}`),
    info('gate work per paid request p50, ours(facilitator)', ourF.gateWorkMs, 'ms', 'median of the rounds'),
    ...(cpu ? [info('workerd CPU per paid request ours(facilitator)/official', cpu.value, '×', `background work included; ${cpu.note}`)] : []),
    info('gate work per paid request p50, official', official.gateWorkMs, 'ms', 'median of the rounds'),
    info('gate work per paid request p50, ours(local)', ourL.gateWorkMs, 'ms', 'p50 − settle − origin'),
    atMost('paid p50 ours(local)/official, 1 connection', ratio(ourL.latency.latencyP50, official.latency.latencyP50), '×', 0.75),
    info('paid throughput ours(local)/official', ratio(ourL.throughput.requestsPerSec, official.throughput.requestsPerSec), '×', '10 connections; one run against the official\'s median round'),
    // Issue 11: three ways to pay per offer, the buyer paying the third; the same bounds as one option.
    atLeast('paid throughput ours(facilitator, 3 options)/official', ratio(ourThree.throughput.requestsPerSec, official.throughput.requestsPerSec), '×', 1.0, '10 connections, paying the third option; one run against the official\'s median round'),
    atMost('paid p50 ours(facilitator, 3 options)/official, 1 connection', ratio(ourThree.latency.latencyP50, official.latency.latencyP50), '×', 1.0),
    atMost('gate work per paid request ours(facilitator, 3 options)/official', ratio(ourThree.gateWorkMs, official.gateWorkMs), '×', 1.5, 'p50 at 1 connection − verify − settle − origin'),
    info('gate work per paid request p50, ours(facilitator, 3 options) vs 1 option', ourThree.gateWorkMs - ourF.gateWorkMs, 'ms'),
  );
}
