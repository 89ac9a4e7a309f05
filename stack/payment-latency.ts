/**
 * `tsx stack/payment-latency.ts [N]`: the figures in docs/local-chain.md. In a fresh process it
 * starts the local chain and facilitator, then makes N (default 50) sequential v2 payments with the
 * official client (sign, POST /verify, POST /settle) and prints one JSON line of timings.
 */
import type { PaymentRequirements } from '@x402/core/types';
import { makeBuyerClient } from './buyer.js';
import { startChain } from './chain.js';
import { startFacilitator } from './facilitator.js';

const quantile = (samples: number[], q: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return Math.round(value * 10) / 10;
};

async function timedPost(url: string, body: string): Promise<{ ms: number; json: Record<string, unknown> }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const json = (await response.json()) as Record<string, unknown>;
  return { ms: performance.now() - started, json };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? '50');
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new Error('N must be an integer 1..10000');
  const importsDone = performance.now();
  const chain = await startChain();
  const chainReady = performance.now();
  const facilitator = await startFacilitator({ rpcUrl: chain.rpcUrl, privateKey: chain.accounts.facilitator.privateKey, log: () => {} });
  const ready = performance.now();
  const requirement: PaymentRequirements = {
    scheme: 'exact', network: 'eip155:84532', asset: chain.tokenAddress, amount: '1000',
    payTo: chain.accounts.seller.address, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' },
  };
  const client = makeBuyerClient(chain.accounts.buyer.privateKey, 2);
  const sign: number[] = [], verify: number[] = [], settle: number[] = [];
  let firstSettled = 0;
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const payload = await client.createPaymentPayload({ x402Version: 2, resource: { url: 'http://127.0.0.1/services/x' }, accepts: [requirement] });
      sign.push(performance.now() - started);
      const body = JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: requirement });
      const verified = await timedPost(`${facilitator.url}/verify`, body);
      const settled = await timedPost(`${facilitator.url}/settle`, body);
      if (verified.json.isValid !== true || settled.json.success !== true) throw new Error(`payment ${i} failed: ${JSON.stringify([verified.json, settled.json])}`);
      if (i === 0) firstSettled = performance.now();
      verify.push(verified.ms);
      settle.push(settled.ms);
    }
  } finally {
    await facilitator.stop();
    await chain.stop();
  }
  console.log(JSON.stringify({
    processStartToImportsMs: Math.round(importsDone), startChainMs: Math.round(chainReady - importsDone),
    startFacilitatorMs: Math.round(ready - chainReady), processStartToReadyMs: Math.round(ready),
    processStartToFirstSettledMs: Math.round(firstSettled), payments: count, signP50: quantile(sign, 0.5),
    verifyP50: quantile(verify, 0.5), verifyP95: quantile(verify, 0.95),
    settleP50: quantile(settle, 0.5), settleP95: quantile(settle, 0.95), settleMax: quantile(settle, 1),
  }));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'error', msg: 'measurement failed', message: String(error) }));
  process.exit(1);
});
