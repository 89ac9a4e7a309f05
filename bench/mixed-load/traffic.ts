import type { PaymentRequired } from '@x402/core/types';
import { Agent, fetch, type Response } from 'undici';
import { z } from 'zod';
import { TRAFFIC_KINDS, type Mix, type TrafficKind } from './options.js';
import { bodyReason, garbageVariants, replayHeaders, signPaidHeaders } from './requests.js';
import { countKinds, kindSequence } from './schedule.js';
import { Tally, type KindReport } from './tally.js';

/**
 * The traffic generator, run as a SEPARATE process (`tsx bench/mixed-load/traffic.ts`, config as
 * JSON on stdin) so it never shares an event loop with the edge it measures. Open loop at a fixed
 * total rate: request i leaves at i / rate seconds whatever the answers do; a full backlog skips
 * the slot (counted as an error) instead of queueing without bound. Prints one JSON line.
 */
export const TrafficConfig = z.object({
  edgeUrl: z.string().url().refine((u) => new URL(u).hostname === '127.0.0.1', 'loopback only'),
  paidPath: z.string().startsWith('/'),
  discoveryPaths: z.array(z.string().startsWith('/')).min(1),
  rate: z.number().int().min(1).max(2_000),
  durationSec: z.number().min(1).max(120),
  mix: z.record(z.enum(TRAFFIC_KINDS), z.number().int().min(0)),
  paymentRequired: z.object({ x402Version: z.literal(2), accepts: z.array(z.unknown()).min(1) }).passthrough(),
  payerKeys: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/)).min(1),
  /** Longer than the edge's own facilitator and settle waits, so a paid answer is not abandoned after it was settled. */
  timeoutMs: z.number().int().min(100).max(120_000).default(60_000),
  maxInFlight: z.number().int().min(1).max(2_048).default(512),
  /** Keep-alive sockets to the edge; more requests wait in the client (their latency counts the wait). */
  connections: z.number().int().min(1).max(512).default(32),
});
export type TrafficConfig = z.input<typeof TrafficConfig>;

export interface TrafficResult {
  readonly startedAt: string;
  readonly elapsedSec: number;
  readonly signedPayments: number;
  readonly signMs: number;
  readonly scheduled: number;
  readonly achievedRate: number;
  readonly kinds: Record<TrafficKind, KindReport>;
  /** 2xx answers to requests that carried a payment (paid and replay); replays should have none. */
  readonly paid2xx: number;
  readonly replay2xx: number;
  /** Distinct settlement transactions named in 2xx receipts. */
  readonly receiptTransactions: number;
}

interface RunState {
  readonly config: z.infer<typeof TrafficConfig>;
  readonly tally: Tally;
  readonly paidHeaders: string[];
  readonly usedPaid: string[];
  readonly garbage: ReadonlyArray<Record<string, string>>;
  readonly transactions: Set<string>;
  readonly dispatcher: Agent;
  counters: { paid: number; replay: number; garbage: number; discovery: number; inFlight: number };
}

function headersFor(kind: TrafficKind, s: RunState): Record<string, string> | undefined {
  const c = s.counters;
  switch (kind) {
    case 'discovery':
    case 'unpaid':
      return {};
    case 'paid':
      return { 'PAYMENT-SIGNATURE': s.paidHeaders[c.paid++] ?? '' };
    case 'replay': {
      const used = s.usedPaid[c.replay % Math.max(1, s.usedPaid.length)];
      if (used === undefined) return undefined;
      return replayHeaders(used, c.replay++);
    }
    case 'garbage':
      return s.garbage[c.garbage++ % s.garbage.length];
  }
}

function receiptTransaction(res: Response): string | undefined {
  const header = res.headers.get('payment-response') ?? res.headers.get('x-payment-response');
  if (!header) return undefined;
  try {
    const receipt = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { success?: unknown; transaction?: unknown };
    return receipt.success === true && typeof receipt.transaction === 'string' ? receipt.transaction : undefined;
  } catch {
    return undefined;
  }
}

/** undici reports "fetch failed" with the socket's error code as the cause. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

async function send(kind: TrafficKind, s: RunState): Promise<void> {
  const headers = headersFor(kind, s);
  s.tally.sent(kind);
  if (headers === undefined) return s.tally.failed(kind, 'network');
  const path = kind === 'discovery' ? (s.config.discoveryPaths[s.counters.discovery++ % s.config.discoveryPaths.length] ?? '/') : `${s.config.paidPath}/v1/chat`;
  const started = performance.now();
  s.counters.inFlight += 1;
  try {
    const res = await fetch(`${s.config.edgeUrl}${path}`, { headers, signal: AbortSignal.timeout(s.config.timeoutMs), dispatcher: s.dispatcher });
    const text = await res.text();
    const latency = performance.now() - started;
    s.tally.answered(kind, res.status, latency, bodyReason(text));
    if (kind === 'paid' && res.ok && headers['PAYMENT-SIGNATURE']) s.usedPaid.push(headers['PAYMENT-SIGNATURE']);
    const tx = res.ok ? receiptTransaction(res) : undefined;
    if (tx) s.transactions.add(tx);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') s.tally.failed(kind, 'timeout');
    else s.tally.failed(kind, 'network', networkCause(error));
  } finally {
    s.counters.inFlight -= 1;
  }
}

/** Dispatch the sequence at `rate` per second; resolves when every request has been answered. */
async function drive(sequence: readonly TrafficKind[], s: RunState): Promise<number> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let next = 0;
  while (next < sequence.length) {
    const due = Math.min(sequence.length, Math.floor(((performance.now() - started) / 1000) * s.config.rate) + 1);
    for (; next < due; next++) {
      const kind = sequence[next] as TrafficKind;
      if (s.counters.inFlight >= s.config.maxInFlight) {
        s.tally.sent(kind);
        s.tally.failed(kind, 'backlog');
      } else pending.push(send(kind, s));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  return (performance.now() - started) / 1000;
}

export async function runTraffic(input: TrafficConfig): Promise<TrafficResult> {
  const config = TrafficConfig.parse(input);
  const sequence = kindSequence(config.mix as Mix, Math.round(config.rate * config.durationSec));
  const paidCount = countKinds(sequence).paid;
  const signStart = performance.now();
  // One extra for the seed request (so replays have a used authorization from the start), one never paid for the garbage.
  const signed = await signPaidHeaders(config.paymentRequired as unknown as PaymentRequired, config.payerKeys as `0x${string}`[], paidCount + 2);
  const signMs = performance.now() - signStart;
  const neverPaid = signed.pop() ?? '';
  const s: RunState = {
    config, tally: new Tally(), dispatcher: new Agent({ connections: config.connections }), paidHeaders: signed, usedPaid: [], garbage: garbageVariants(neverPaid), transactions: new Set(),
    counters: { paid: 0, replay: 0, garbage: 0, discovery: 0, inFlight: 0 },
  };
  const startedAt = new Date().toISOString();
  await send('paid', s);
  const elapsedSec = await drive(sequence, s);
  const kinds = s.tally.report();
  const twoXx = (r: KindReport) => Object.entries(r.statuses).filter(([code]) => code.startsWith('2')).reduce((a, [, n]) => a + n, 0);
  return {
    startedAt,
    elapsedSec: Math.round(elapsedSec * 100) / 100,
    signedPayments: signed.length + 1,
    signMs: Math.round(signMs),
    scheduled: sequence.length + 1,
    achievedRate: Math.round((sequence.length / elapsedSec) * 10) / 10,
    kinds,
    paid2xx: twoXx(kinds.paid) + twoXx(kinds.replay),
    replay2xx: twoXx(kinds.replay),
    receiptTransactions: s.transactions.size,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  readStdin()
    .then((text) => runTraffic(JSON.parse(text) as TrafficConfig))
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      process.stderr.write(`traffic generator: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
