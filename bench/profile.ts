import { median } from './figures.js';
import { benchOffers, benchSnapshot, pushCatalog, sendPush, signPush } from './catalog.js';
import { PAID_PATH } from './cases/gate.js';
import { signPayments } from './load.js';
import { startFacilitatorStub, startOrigin, type TimedServer } from './servers.js';
import { bundleWorkers, startOfficialWorker, startOurEdge, type RunningWorker } from './workers.js';
import { signerVars, TEST_PAY_TO } from '../test/support/snapshots.js';

/**
 * `tsx bench/profile.ts [--paid-only]`: where the time of a paid request and of a snapshot push goes, measured
 * inside workerd (the gate's `Server-Timing` spans, GATE_SERVER_TIMING=1) at one connection.
 * CPU-only steps are split further by `bench/profile-steps.ts` (same V8 engine, in Node).
 */
const REQUESTS = 150;
const ROUNDS = 2;

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Sequential paid requests; the gate's own work is the client's p50 minus the facilitator's and the
 * origin's handler time, at sub-millisecond resolution (the bench's load runs report whole ms).
 */
async function paidSpans(worker: RunningWorker, servers: { origin: TimedServer; facilitator: TimedServer }): Promise<Record<string, number>> {
  const challenge = await fetch(`${worker.url}${PAID_PATH}`);
  const paymentRequired = JSON.parse(Buffer.from(challenge.headers.get('payment-required') ?? '', 'base64').toString('utf8')) as unknown;
  const headers = await signPayments({ paymentRequired, count: REQUESTS, payers: 8 });
  servers.origin.reset();
  servers.facilitator.reset();
  const spans = new Map<string, number[]>();
  const client: number[] = [];
  for (const [i, header] of headers.entries()) {
    const started = performance.now();
    const res = await fetch(`${worker.url}${PAID_PATH}`, { headers: { 'PAYMENT-SIGNATURE': header } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`paid request answered ${res.status}`);
    if (i < 20) continue; // warm-up
    client.push(performance.now() - started);
    for (const span of (res.headers.get('server-timing') ?? '').split(/,\s*/)) {
      const [name, dur] = span.split(';dur=');
      if (name && dur) spans.set(name, [...(spans.get(name) ?? []), Number.parseFloat(dur)]);
    }
  }
  const handlers = (server: TimedServer) => [...server.timings.values()].reduce((sum, t) => sum + median(t), 0);
  const clientP50 = median(client);
  const out: Record<string, number> = { client_p50: round2(clientP50), gate_work: round2(clientP50 - handlers(servers.facilitator) - handlers(servers.origin)) };
  for (const [name, values] of spans) out[name] = round2(median(values));
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
    const servers = { origin, facilitator };
    const official = await startOfficialWorker(bundles.official, { FACILITATOR_URL: facilitator.url, ORIGIN_URL: origin.url, PAY_TO: TEST_PAY_TO, PRICE: '$0.001' });
    workers.push(official);
    const ours: [string, RunningWorker][] = [];
    for (const mode of ['facilitator', 'local']) {
      const worker = await startOurEdge(bundles.edge, { ...vars, VERIFY_MODE: mode });
      workers.push(worker);
      ours.push([mode, worker]);
      await pushCatalog(worker.url, catalog);
    }
    // Interleaved rounds, so a busy moment of the machine does not land on one worker only.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, worker] of [['official', official] as const, ...ours]) {
        const spans = await paidSpans(worker, servers);
        const stub = Object.fromEntries([...facilitator.timings].map(([path, t]) => [path, round2(median(t))]));
        console.log(JSON.stringify({ case: `paid (${name})`, round, spansMsP50: spans, facilitatorStubMsP50: stub }));
      }
    }
    if (process.argv.includes('--paid-only')) return;
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
