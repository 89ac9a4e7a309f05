import autocannon from 'autocannon';
import { x402Client } from '@x402/core/client';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentRequired } from '@x402/core/types';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
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

export async function load(input: LoadConfig): Promise<LoadResult> {
  const config = LoadConfig.parse(input);
  const signStart = performance.now();
  const headers = config.payment ? await signPayments(config.payment) : undefined;
  const signMs = performance.now() - signStart;
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
