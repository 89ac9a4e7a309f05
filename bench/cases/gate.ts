import { runLoad } from '../child-load.js';
import { atLeast, atMost, info, median, type BenchResults } from '../figures.js';
import type { LoadResult } from '../load.js';
import type { TimedServer } from '../servers.js';
import { capture, startConstantWorker, type RunningWorker } from '../workers.js';

/**
 * Case 3: the payment gate. Paid requests through our gate (facilitator and local verify mode) vs
 * the official @x402/hono middleware over the same origin and the same 20 ms facilitator stub;
 * the 402 challenge vs a constant 402; the gate's own work per paid request.
 */
export const PAID_PATH = '/services/svc-00500/v1/chat';
const LATENCY = { connections: 1, durationSec: 3, warmupSec: 0.5 };
const THROUGHPUT = { connections: 10, durationSec: 4, warmupSec: 0.5 };

export interface GateTargets {
  readonly official: RunningWorker;
  readonly ourFacilitator: RunningWorker;
  readonly ourLocal: RunningWorker;
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

export async function challengeCase(ours: RunningWorker, results: BenchResults): Promise<void> {
  const challenge = await capture(ours.url, PAID_PATH);
  if (challenge.status !== 402) {
    results.unavailable.push({ case: '402 challenge', reason: `unpaid request answered ${challenge.status}: ${challenge.body.slice(0, 120)}` });
    return;
  }
  const constant = await startConstantWorker([challenge]);
  try {
    const load = { ...THROUGHPUT, expectStatus: 402 };
    const a = await runLoad({ url: `${ours.url}${PAID_PATH}`, ...load });
    const b = await runLoad({ url: `${constant.url}${PAID_PATH}`, ...load });
    results.runs['402 challenge (ours)'] = a;
    results.runs['402 challenge (constant 402)'] = b;
    results.figures.push(atLeast('402 challenge throughput ours/constant', a.requestsPerSec / b.requestsPerSec, '×', 0.8));
  } finally {
    await constant.dispose();
  }
}

interface PaidRun {
  readonly latency: LoadResult;
  readonly throughput: LoadResult;
  /** p50 at one connection minus the facilitator's and the origin's own handler time. */
  readonly gateWorkMs: number;
}

async function paidRuns(name: string, worker: RunningWorker, t: GateTargets, results: BenchResults): Promise<PaidRun> {
  const paymentRequired = await challengeOf(worker);
  const url = `${worker.url}${PAID_PATH}`;
  t.facilitator.reset();
  t.origin.reset();
  const latency = await runLoad({ url, expectStatus: 200, ...LATENCY, payment: { paymentRequired, count: 400 } });
  const own = (server: TimedServer, path: string) => median(server.timings.get(path) ?? []);
  const calls = (server: TimedServer, path: string) => (server.timings.get(path) ?? []).length;
  const perRequest = (path: string) => (calls(t.facilitator, path) > 0 ? own(t.facilitator, path) : 0);
  const originMs = median([...t.origin.timings.values()].flat());
  const gateWorkMs = latency.latencyP50 - perRequest('/verify') - perRequest('/settle') - originMs;
  const throughput = await runLoad({ url, expectStatus: 200, ...THROUGHPUT, payment: { paymentRequired, count: 2000 } });
  results.runs[`paid ${name} (1 conn)`] = latency;
  results.runs[`paid ${name} (10 conn)`] = throughput;
  return { latency, throughput, gateWorkMs };
}

export async function paidCase(t: GateTargets, results: BenchResults): Promise<void> {
  const official = await paidRuns('official @x402/hono', t.official, t, results);
  const ourF = await paidRuns('ours facilitator', t.ourFacilitator, t, results);
  const ourL = await paidRuns('ours local', t.ourLocal, t, results);
  const p50 = (r: PaidRun) => Math.max(r.latency.latencyP50, 1);
  results.figures.push(
    atMost('paid p50 ours(facilitator)/official', ourF.latency.latencyP50 / p50(official), '×', 1.1),
    info('paid p99 ours(facilitator)/official', ourF.latency.latencyP99 / Math.max(official.latency.latencyP99, 1), '×'),
    atMost('paid p50 ours(local)/official', ourL.latency.latencyP50 / p50(official), '×', 0.75),
    info('paid p99 ours(local)/official', ourL.latency.latencyP99 / Math.max(official.latency.latencyP99, 1), '×'),
    info('paid throughput ours(facilitator)/official', ourF.throughput.requestsPerSec / official.throughput.requestsPerSec, '×', '10 connections'),
    info('paid throughput ours(local)/official', ourL.throughput.requestsPerSec / official.throughput.requestsPerSec, '×', '10 connections'),
    atMost('gate work per paid request p50, ours(facilitator)', ourF.gateWorkMs, 'ms', 5, 'p50 − verify − settle − origin'),
    atMost('gate work per paid request p50, ours(local)', ourL.gateWorkMs, 'ms', 5, 'p50 − settle − origin'),
    info('gate work per paid request p50, official', official.gateWorkMs, 'ms', 'p50 − verify − settle − origin'),
  );
}
