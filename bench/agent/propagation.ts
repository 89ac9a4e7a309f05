import { CustomObjectsApi } from '@kubernetes/client-node';
import { z } from 'zod';
import { startAgent, type RunningAgent } from '../../cluster-agent/src/agent/agent.js';
import { DEFAULT_TIMINGS } from '../../cluster-agent/src/agent/config.js';
import { createLogger } from '../../cluster-agent/src/agent/log.js';
import { startUpstream, testSigner } from '../../cluster-agent/test/agent/support.js';
import { startFakeApiServer } from '../../cluster-agent/test/fake-apiserver/server.js';
import { BENCH_NAMESPACES, benchManifests } from './offers.js';
import { startWranglerEdge } from './edge-process.js';

/**
 * Propagation latency (issue 4): a ServiceOffer change on the (fake) API server → the agent's
 * informer → plan → debounced push → the edge under `wrangler dev` serving the new price in
 * `/api/services.json`. Each change is timed from the PATCH request until the edge shows it.
 */

export interface PropagationResult {
  readonly samplesMs: number[];
  /** Changes the edge did not show within the per-change deadline. */
  readonly timeouts: number;
  readonly debounceMs: number;
  readonly offers: number;
}

export interface PropagationOptions {
  readonly changes?: number;
  readonly offers?: number;
  readonly pollMs?: number;
  readonly perChangeTimeoutMs?: number;
}

const TOKEN = 'agent-bench-token';
const PUBLIC_BASE_URL = 'https://agent-bench.obol.example';
const ServicesDocument = z.object({ services: z.array(z.object({ namespace: z.string(), name: z.string(), priceRaw: z.string() })) });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The priceRaw the edge serves for one offer, or undefined (not listed / no catalog yet). */
async function servedPrice(edgeUrl: string, namespace: string, name: string): Promise<string | undefined> {
  const res = await fetch(`${edgeUrl}/api/services.json`);
  if (res.status !== 200) return void (await res.body?.cancel());
  const doc = ServicesDocument.parse(await res.json());
  return doc.services.find((s) => s.namespace === namespace && s.name === name)?.priceRaw;
}

async function waitForPrice(edgeUrl: string, target: { namespace: string; name: string }, price: string, pollMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await servedPrice(edgeUrl, target.namespace, target.name)) === price) return true;
    await sleep(pollMs);
  }
  return false;
}

/** Merge-patch one offer's per-request price through the API server's HTTP API. */
export async function patchPrice(apiUrl: string, target: { namespace: string; name: string }, price: string, token = TOKEN): Promise<void> {
  const res = await fetch(`${apiUrl}/apis/obol.org/v1alpha1/namespaces/${target.namespace}/serviceoffers/${target.name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { payment: { price: { perRequest: price } } } }),
  });
  if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  await res.body?.cancel();
}

export async function measurePropagation(options: PropagationOptions = {}): Promise<PropagationResult> {
  const changes = options.changes ?? 100;
  const offerCount = options.offers ?? 10;
  const pollMs = options.pollMs ?? 5;
  const perChangeTimeoutMs = options.perChangeTimeoutMs ?? 10_000;
  const signer = testSigner();
  const upstream = await startUpstream();
  const fake = await startFakeApiServer({ token: TOKEN, namespaces: ['default', ...BENCH_NAMESPACES] });
  let agent: RunningAgent | undefined;
  const edge = await startWranglerEdge({ CATALOG_SIGNERS: signer.address, PUBLIC_BASE_URL }).catch(async (error: unknown) => {
    await Promise.all([fake.stop(), upstream.close()]);
    throw error;
  });
  try {
    const api = fake.kubeConfig.makeApiClient(CustomObjectsApi);
    const manifests = benchManifests(offerCount, upstream.url);
    for (const body of manifests) {
      const namespace = (body.metadata as { namespace: string }).namespace;
      await api.createNamespacedCustomObject({ group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', namespace, body });
    }
    const timing = DEFAULT_TIMINGS;
    agent = await startAgent({
      source: { kind: 'kube', kubeConfig: fake.kubeConfig, namespaces: [] },
      edgeUrl: edge.url,
      signer,
      identity: { registrations: [] },
      timing: timing.pusher,
      healthIntervalMs: timing.healthIntervalMs,
      probeTimeoutMs: timing.probeTimeoutMs,
      resyncMs: timing.resyncMs,
      log: createLogger({ level: 'error' }),
      onLostLeadership: () => undefined,
    });
    await Promise.race([agent.ready, sleep(30_000).then(() => { throw new Error('the agent did not push its first snapshot within 30 s'); })]);
    const target = { namespace: 'llm', name: 'offer-00000' };
    if (!(await waitForPrice(edge.url, target, '0.001', pollMs, 10_000))) throw new Error('the edge never served the initial catalog');
    const samplesMs: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < changes; i++) {
      // A new, exactly written decimal price each time (never a float).
      const price = `0.00${1000 + i + 1}`;
      const started = performance.now();
      await patchPrice(fake.url, target, price);
      if (await waitForPrice(edge.url, target, price, pollMs, perChangeTimeoutMs)) samplesMs.push(performance.now() - started);
      else timeouts++;
    }
    return { samplesMs, timeouts, debounceMs: timing.pusher.debounceMs, offers: offerCount };
  } finally {
    await agent?.stop();
    await edge.stop();
    await fake.stop();
    await upstream.close();
  }
}
