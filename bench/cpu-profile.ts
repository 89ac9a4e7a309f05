import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { z } from 'zod';
import { signerVars } from '../test/support/snapshots.js';
import { edgeWorkerOptions, ROOT } from '../test/support/edge-bundle.js';
import { benchOffers, benchSnapshot, pushCatalog, sendPush, signPush } from './catalog.js';
import { PAID_PATH } from './cases/gate.js';
import { runLoad } from './child-load.js';
import { startFacilitatorStub, startOrigin } from './servers.js';
import { bundleWorkers, BENCH_PUBLIC_BASE_URL } from './workers.js';

/**
 * `tsx bench/cpu-profile.ts [challenge|paid-facilitator|paid-local|accept|accept-repush]`: a V8 CPU profile of the edge
 * inside workerd (its inspector) while the bench's load runs, summed by function (self time) and by
 * source file. Writes the raw profile to dist/bench/<case>.cpuprofile (opens in Chrome DevTools).
 */
const INSPECTOR_PORT = 9329;
const CASE = z.enum(['challenge', 'paid-facilitator', 'paid-local', 'accept', 'accept-repush']).parse(process.argv[2] ?? 'challenge');

const ProfileNode = z.object({
  id: z.number(),
  callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
  hitCount: z.number().default(0),
});
const Profile = z.object({ nodes: z.array(ProfileNode), startTime: z.number(), endTime: z.number(), samples: z.array(z.number()).default([]) });

async function inspectorUrl(): Promise<string> {
  const targets = z.array(z.object({ id: z.string(), title: z.string().optional(), webSocketDebuggerUrl: z.string().optional() })).parse(await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json());
  const target = targets.find((t) => t.id.includes('core:user')) ?? targets[0];
  if (!target) throw new Error('no inspector target');
  return target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${INSPECTOR_PORT}/${target.id}`;
}

function session(url: string): Promise<{ call: (method: string, params?: object) => Promise<unknown>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let next = 1;
    const waiting = new Map<number, (value: unknown) => void>();
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id !== undefined) waiting.get(message.id)?.(message.error ? Promise.reject(new Error(JSON.stringify(message.error))) : message.result);
    });
    socket.addEventListener('error', reject);
    socket.addEventListener('open', () =>
      resolve({
        call: (method, params = {}) =>
          new Promise((done) => {
            const id = next++;
            waiting.set(id, done);
            socket.send(JSON.stringify({ id, method, params }));
          }),
        close: () => socket.close(),
      }),
    );
  });
}

function summarize(profile: z.infer<typeof Profile>): void {
  const totalHits = profile.nodes.reduce((sum, n) => sum + n.hitCount, 0) || 1;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split('/').slice(-1)[0] || '(native)';
    const fn = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.hitCount);
    const area = functionName.startsWith('(') ? functionName : file;
    byFile.set(area, (byFile.get(area) ?? 0) + node.hitCount);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / totalHits).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  console.log(`\nself time by function (top 40 of ${totalHits} samples)\n${top(byFunction, 40)}`);
  console.log(`\nself time by area\n${top(byFile, 15)}`);
}

/** Five 10,000-offer pushes in a row, each awaited. */
async function acceptPushes(url: string): Promise<{ requestsPerSec: number; latencyP50: number }> {
  const offers = benchOffers(10_000);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    // `accept`: every offer new to the edge each time; `accept-repush`: 1 % of offers edited, the agent's usual push.
    const stride = CASE === 'accept' ? 1 : 100;
    const push = await signPush(benchSnapshot(offers.map((offer, k) => (k % stride === 0 ? { ...offer, description: `${offer.description} ${i}` } : offer)), 1_000 + i));
    const start = performance.now();
    const res = await sendPush(url, push);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`10,000-offer push answered ${res.status}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { requestsPerSec: 1000 / (times[2] ?? 1), latencyP50: times[2] ?? 0 };
}

async function main(): Promise<void> {
  const bundles = await bundleWorkers();
  const origin = await startOrigin();
  const facilitator = await startFacilitatorStub(20);
  const persist = mkdtempSync(join(tmpdir(), 'obol-cpu-profile-'));
  const mf = new Miniflare({
    ...edgeWorkerOptions(bundles.edge, {
      LOCAL_DEV: '1', PUBLIC_BASE_URL: BENCH_PUBLIC_BASE_URL, ...signerVars(), ORIGIN_URL: origin.url, FACILITATOR_URL: facilitator.url,
      VERIFY_MODE: CASE === 'paid-local' ? 'local' : 'facilitator',
    }),
    durableObjectsPersist: persist,
    inspectorPort: INSPECTOR_PORT,
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => { stdout.resume(); stderr.resume(); },
  });
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    await pushCatalog(url, benchSnapshot(benchOffers(1_000), 1));
    const challenge = await fetch(`${url}${PAID_PATH}`);
    const paymentRequired = JSON.parse(Buffer.from(challenge.headers.get('payment-required') ?? '', 'base64').toString('utf8')) as unknown;
    const inspector = await session(await inspectorUrl());
    await inspector.call('Profiler.enable');
    await inspector.call('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.call('Profiler.start');
    const load = CASE === 'accept' || CASE === 'accept-repush'
      ? await acceptPushes(url)
      : CASE === 'challenge'
      ? await runLoad({ url: `${url}${PAID_PATH}`, expectStatus: 402, connections: 10, durationSec: 4, warmupSec: 0.5 })
      : await runLoad({ url: `${url}${PAID_PATH}`, expectStatus: 200, connections: 1, durationSec: 4, warmupSec: 0.5, payment: { paymentRequired, count: 400 } });
    const { profile } = (await inspector.call('Profiler.stop')) as { profile: unknown };
    inspector.close();
    const parsed = Profile.parse(profile);
    writeFileSync(join(ROOT, 'dist', 'bench', `${CASE}.cpuprofile`), JSON.stringify(profile));
    console.log(JSON.stringify({ case: CASE, requestsPerSec: Math.round(load.requestsPerSec), p50: load.latencyP50 }));
    summarize(parsed);
  } finally {
    await mf.dispose();
    rmSync(persist, { recursive: true, force: true });
    await origin.close();
    await facilitator.close();
  }
}

main().then(() => process.exit(0), (error: unknown) => { console.error(error); process.exit(1); });
