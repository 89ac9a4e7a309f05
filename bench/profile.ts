import { median } from './figures.js';
import { benchOffers, benchSnapshot, pushCatalog, sendPush, signPush } from './catalog.js';
import { PAID_PATH } from './cases/gate.js';
import { signPayments } from './load.js';
import { startFacilitatorStub, startOrigin } from './servers.js';
import { bundleWorkers, startOurEdge, type RunningWorker } from './workers.js';
import { signerVars } from '../test/support/snapshots.js';

/**
 * `tsx bench/profile.ts`: where the time of a paid request and of a snapshot push goes, measured
 * inside workerd (the gate's `Server-Timing` spans, GATE_SERVER_TIMING=1) at one connection.
 * CPU-only steps are split further by `bench/profile-steps.ts` (same V8 engine, in Node).
 */
const REQUESTS = 150;

async function paidSpans(worker: RunningWorker): Promise<Record<string, number>> {
  const challenge = await fetch(`${worker.url}${PAID_PATH}`);
  const paymentRequired = JSON.parse(Buffer.from(challenge.headers.get('payment-required') ?? '', 'base64').toString('utf8')) as unknown;
  const headers = await signPayments({ paymentRequired, count: REQUESTS, payers: 8 });
  const spans = new Map<string, number[]>();
  const client: number[] = [];
  for (const [i, header] of headers.entries()) {
    const started = performance.now();
    const res = await fetch(`${worker.url}${PAID_PATH}`, { headers: { 'PAYMENT-SIGNATURE': header } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`paid request answered ${res.status}`);
    if (i < 20) continue; // warm-up
    client.push(performance.now() - started);
    for (const span of (res.headers.get('server-timing') ?? '').split(', ')) {
      const [name, dur] = span.split(';dur=');
      if (name && dur) spans.set(name, [...(spans.get(name) ?? []), Number(dur)]);
    }
  }
  const out: Record<string, number> = { client_p50: median(client) };
  for (const [name, values] of spans) out[name] = Math.round(median(values) * 100) / 100;
  return out;
}

async function main(): Promise<void> {
  const bundles = await bundleWorkers();
  const origin = await startOrigin();
  const facilitator = await startFacilitatorStub(20);
  const workers: RunningWorker[] = [];
  try {
    const vars = { ...signerVars(), ORIGIN_URL: origin.url, FACILITATOR_URL: facilitator.url, GATE_SERVER_TIMING: '1' };
    const catalog = benchSnapshot(benchOffers(1_000), 1);
    for (const mode of ['facilitator', 'local']) {
      const worker = await startOurEdge(bundles.edge, { ...vars, VERIFY_MODE: mode });
      workers.push(worker);
      await pushCatalog(worker.url, catalog);
      facilitator.reset();
      const spans = await paidSpans(worker);
      const stub = Object.fromEntries([...facilitator.timings].map(([path, t]) => [path, Math.round(median(t) * 100) / 100]));
      console.log(JSON.stringify({ case: `paid (${mode})`, spansMsP50: spans, facilitatorStubMsP50: stub }));
    }
    const accept = await startOurEdge(bundles.edge, signerVars());
    workers.push(accept);
    const offers = benchOffers(10_000);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const push = await signPush(benchSnapshot(offers, 1_000 + i));
      const started = performance.now();
      const res = await sendPush(accept.url, push);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`push answered ${res.status}`);
      times.push(Math.round(performance.now() - started));
    }
    console.log(JSON.stringify({ case: 'accept 10,000 offers (PUT round trip)', ms: times }));
  } finally {
    for (const w of workers) await w.dispose();
    await origin.close();
    await facilitator.close();
  }
}

main().then(() => process.exit(0), (error: unknown) => { console.error(error); process.exit(1); });
