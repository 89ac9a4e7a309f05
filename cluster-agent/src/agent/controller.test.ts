import { afterEach, describe, expect, it } from 'vitest';
import type { OfferCondition } from '../../../core/index.js';
import { recordOf } from '../sources/kube.js';
import type { KubeObjectFacts, OfferRecord, OfferSource } from '../sources/source.js';
import { Controller } from './controller.js';
import { createLogger } from './log.js';
import { createAgentMetrics } from './metrics.js';
import type { OfferStatus } from './reconcile.js';
import type { RouteManager } from './routes.js';
import type { ComputeStatus, StatusWriter } from './status-writer.js';

/**
 * The controller's Kubernetes side effects against in-memory collaborators: a status writer that
 * behaves as `createStatusWriter` does on a 409 (re-read, recompute), and a route manager whose
 * applies fail on demand.
 */

function raw(name: string, generation: number, resourceVersion: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace: 'apis', uid: 'u1', generation, resourceVersion, creationTimestamp: '2026-01-01T00:00:00Z', finalizers: ['obol.org/catalog'] },
    spec: { upstream: { service: 'svc', port: 8080 }, payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '0.001' } }, ...spec },
  };
}

function record(value: unknown): OfferRecord {
  const r = recordOf(value);
  if (!r) throw new Error('fixture is not an offer');
  return r;
}

/** The API server's copy of one offer: a status PUT with an older resourceVersion is a 409, then re-read as the real writer does. */
function apiServer(initial: KubeObjectFacts) {
  let stored = initial;
  const written: OfferStatus[] = [];
  const status: StatusWriter = {
    conflicts: 0,
    async write(object: KubeObjectFacts, compute: ComputeStatus) {
      const current = object.resourceVersion === stored.resourceVersion ? object : stored;
      const next = compute(current);
      if (!next) return 'unchanged';
      written.push(next);
      stored = { ...stored, status: next, resourceVersion: String(Number(stored.resourceVersion) + 1) };
      return 'written';
    },
  };
  return {
    status,
    written,
    /** A user's edit (or the agent's own status) stored; the informer has not delivered it. */
    store: (object: KubeObjectFacts) => void (stored = object),
  };
}

function controllerOver(records: Map<string, OfferRecord>, status: StatusWriter, routes?: RouteManager, lines: string[] = []): Controller {
  const source: OfferSource = {
    kind: 'kube',
    synced: true,
    records: () => [...records.values()],
    get: (key) => records.get(key),
    start: async () => undefined,
    stop: async () => undefined,
  };
  const controller = new Controller({
    source,
    pusher: { lastAck: undefined, inSync: false, setOffers: () => undefined } as never,
    prober: { get: () => ({ healthy: true, message: 'ok' }), sync: () => undefined, settled: async () => undefined } as never,
    cluster: { status, finalizers: { add: async () => undefined, remove: async () => undefined } as never, ...(routes ? { routes } : {}) },
    publicBaseUrl: () => undefined,
    resyncMs: 1e9,
    log: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    metrics: createAgentMetrics(),
    retry: { backoffBaseMs: 100, backoffMaxMs: 400 },
  });
  running.push(controller);
  return controller;
}

const running: Controller[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const find = (s: OfferStatus | undefined, type: string): OfferCondition | undefined => s?.conditions?.find((c) => c.type === type);

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('Controller', () => {
  it('a 409 re-read bringing a newer generation writes nothing; that generation is observed from its own plan', async () => {
    const records = new Map<string, OfferRecord>();
    const planned = record(raw('w', 1, '100'));
    records.set(planned.key, planned);
    // The user set drainAt (generation 2) before the informer delivered it: the agent's PUT (rv 100) gets a 409.
    const drainAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1_800_000).toISOString().replace('.000Z', 'Z');
    const edited = record(raw('w', 2, '101', { drainAt, drainGracePeriod: '1h' }));
    const api = apiServer(edited.object as KubeObjectFacts);
    const controller = controllerOver(records, api.status);
    controller.start();
    await sleep(200);
    expect(api.written.map((s) => s.observedGeneration)).toEqual([]);

    records.set(edited.key, edited);
    controller.enqueue(edited.key);
    const observed = await until('generation 2 observed', () => api.written.find((s) => s.observedGeneration === 2));
    expect(find(observed, 'Draining')).toMatchObject({ status: 'True', reason: 'Draining', observedGeneration: 2 });
    expect(api.written).toHaveLength(1);
  });

  it('a route the API server refuses: RoutePublished=False/RouteApplyFailed written once, retries back off, success resets the backoff', async () => {
    const name = 'meta-llama.llama-3.1-70b-instruct.q4-k-m.ollama.gpu-pool-a.example-provider';
    const offer = record(raw(name, 1, '100'));
    const api = apiServer(offer.object as KubeObjectFacts);
    const refusal = 'HTTPRoute.gateway.networking.k8s.io "obol-x" is invalid: metadata.labels: Invalid value: must be no more than 63 characters';
    let refuse = true;
    const attempts: number[] = [];
    const routes: RouteManager = {
      async ensure() {
        attempts.push(Date.now());
        if (refuse) throw Object.assign(new Error('HTTP-Code: 422'), { code: 422, body: JSON.stringify({ kind: 'Status', message: refusal }), headers: {} });
        return 'applied';
      },
      remove: async () => 'absent',
      forgetApplied: () => undefined,
    };
    const lines: string[] = [];
    const controller = controllerOver(new Map([[offer.key, offer]]), api.status, routes, lines);
    controller.start();
    await sleep(1500);

    expect(api.written).toHaveLength(1);
    expect(find(api.written[0], 'RoutePublished')).toMatchObject({
      status: 'False',
      reason: 'RouteApplyFailed',
      message: `HTTPRoute apis/obol-${name} could not be applied: ${refusal} (HTTP 422)`,
    });
    expect(find(api.written[0], 'Ready')).toMatchObject({ status: 'False', reason: 'RouteApplyFailed' });
    // 100 ms doubling to 400 ms, half of each jittered: never the flat second, and growing.
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(gaps[0]).toBeLessThan(180);
    for (const gap of gaps.slice(3)) expect(gap).toBeGreaterThanOrEqual(190);
    for (const gap of gaps) expect(gap).toBeLessThan(600);
    const warnings = lines.filter((l) => l.includes('reconcile failed'));
    expect(warnings).toHaveLength(attempts.length);

    refuse = false;
    await until('RoutePublished=True', () => (find(api.written.at(-1), 'RoutePublished')?.status === 'True' ? true : undefined));
    refuse = true;
    const mark = attempts.length;
    controller.enqueue(offer.key);
    await until('two attempts after the new failure', () => (attempts.length >= mark + 2 ? true : undefined));
    expect((attempts[mark + 1] as number) - (attempts[mark] as number)).toBeLessThan(180);
    expect(find(api.written.at(-1), 'RoutePublished')?.reason).toBe('RouteApplyFailed');
  });
});
