import autocannon from 'autocannon';
import { x402Client } from '@x402/core/client';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentRequired } from '@x402/core/types';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
import { Pool } from 'undici';
import { keccak256, toHex } from 'viem';
import { z } from 'zod';

/**
 * The load generator, run as a SEPARATE process (`tsx bench/load.ts '<json>'`) so it never shares
 * a core's event loop with the servers it measures. Paid runs pre-sign every payment with the
 * official x402 client before the clock starts; each request carries a fresh authorization.
 * Prints one JSON line: the LoadResult.
 */
export const LoadConfig = z.object({
  url: z.string().url(),
  connections: z.number().int().min(1).max(256),
  durationSec: z.number().min(0.5).max(30),
  warmupSec: z.number().min(0).max(10).default(0),
  expectStatus: z.number().int(),
  /**
   * Closed loop instead of autocannon: `connections` loops each send the next request as soon as
   * their last one ended, until `requests` were measured (after `warmupRequests`), timed to the
   * microsecond. autocannon's histogram keeps whole milliseconds, too coarse for a p50 ratio.
   */
  closedLoop: z.object({ requests: z.number().int().min(10).max(50_000), warmupRequests: z.number().int().min(0).max(5_000).default(0) }).optional(),
  payment: z
    .object({
      /** The decoded v2 PAYMENT-REQUIRED object of the route. */
      paymentRequired: z.unknown(),
      count: z.number().int().min(1).max(50_000),
      payers: z.number().int().min(1).max(64).default(8),
    })
    .optional(),
});
export type LoadConfig = z.input<typeof LoadConfig>;

export interface LoadResult {
  requestsPerSec: number;
  latencyP50: number;
  latencyP99: number;
  latencyMean: number;
  total: number;
  unexpectedStatus: number;
  errors: number;
  statusCodes: Record<string, number>;
  signed?: number;
  signMs?: number;
}

/** Deterministic bench-only payer keys (never funded anywhere). */
function payerKey(i: number): `0x${string}` {
  return keccak256(toHex(`obol-bench-payer-${i}`));
}

export async function signPayments(payment: NonNullable<z.infer<typeof LoadConfig>['payment']>): Promise<string[]> {
  const clients = Array.from({ length: payment.payers }, (_, i) =>
    registerExactEvmScheme(new x402Client(), { signer: privateKeyToAccount(payerKey(i)) }),
  );
  const headers: string[] = [];
  for (let i = 0; i < payment.count; i++) {
    const client = clients[i % clients.length];
    if (!client) throw new Error('no client');
    headers.push(encodePaymentSignatureHeader(await client.createPaymentPayload(payment.paymentRequired as PaymentRequired)));
  }
  return headers;
}

function requestsFor(headers: string[] | undefined): autocannon.Request[] | undefined {
  if (!headers) return undefined;
  let next = 0;
  return [{
    method: 'GET',
    setupRequest: (req: autocannon.Request) => {
      // Past the pre-signed supply a request goes unpaid and is counted as unexpected.
      const header = headers[next++];
      return header ? { ...req, headers: { ...req.headers, 'PAYMENT-SIGNATURE': header } } : req;
    },
  }];
}

async function run(url: string, connections: number, durationSec: number, requests?: autocannon.Request[]) {
  return autocannon({ url, connections, duration: durationSec, pipelining: 1, timeout: 10, ...(requests ? { requests } : {}) });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

async function closedLoop(config: z.infer<typeof LoadConfig>, loop: NonNullable<z.infer<typeof LoadConfig>['closedLoop']>, headers: string[] | undefined): Promise<Omit<LoadResult, 'signed' | 'signMs'>> {
  const url = new URL(config.url);
  const pool = new Pool(url.origin, { connections: config.connections, pipelining: 1 });
  const total = loop.warmupRequests + loop.requests;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  let measuredFrom = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      if (i === loop.warmupRequests) measuredFrom = performance.now();
      const header = headers?.[i];
      const started = performance.now();
      try {
        const res = await pool.request({ path: `${url.pathname}${url.search}`, method: 'GET', headers: header ? { 'PAYMENT-SIGNATURE': header } : {} });
        await res.body.dump();
        if (i < loop.warmupRequests) continue;
        latencies.push(performance.now() - started);
        statusCodes[String(res.statusCode)] = (statusCodes[String(res.statusCode)] ?? 0) + 1;
      } catch {
        if (i >= loop.warmupRequests) errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: config.connections }, worker));
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  const expected = statusCodes[String(config.expectStatus)] ?? 0;
  return {
    requestsPerSec: latencies.length / seconds,
    latencyP50: percentile(sorted, 50),
    latencyP99: percentile(sorted, 99),
    latencyMean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    total: latencies.length + errors,
    unexpectedStatus: latencies.length - expected,
    errors,
    statusCodes,
  };
}

export async function load(input: LoadConfig): Promise<LoadResult> {
  const config = LoadConfig.parse(input);
  const signStart = performance.now();
  const headers = config.payment ? await signPayments(config.payment) : undefined;
  const signMs = performance.now() - signStart;
  if (config.closedLoop) return { ...(await closedLoop(config, config.closedLoop, headers)), ...(headers ? { signed: headers.length, signMs } : {}) };
  const requests = requestsFor(headers);
  if (config.warmupSec > 0) await run(config.url, config.connections, config.warmupSec, requests);
  const result = await run(config.url, config.connections, config.durationSec, requests);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
  const expected = statusCodes[String(config.expectStatus)] ?? 0;
  return {
    requestsPerSec: result.requests.total / (result.duration || config.durationSec),
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMean: result.latency.average,
    total: result.requests.total,
    unexpectedStatus: result.requests.total - expected,
    errors: result.errors + result.timeouts,
    statusCodes,
    ...(headers ? { signed: headers.length, signMs } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const raw = process.argv[2];
  if (!raw) {
    console.error('usage: tsx bench/load.ts \'<LoadConfig JSON>\'');
    process.exit(2);
  }
  load(JSON.parse(raw) as LoadConfig)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((error: unknown) => {
      console.error(String(error));
      process.exit(1);
    });
}
