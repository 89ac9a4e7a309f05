import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { buildCrd } from '../../deploy/generate-crd.js';
import { run as sell } from '../../src/cli/commands/sell.js';

/**
 * Runs against whatever cluster KUBECONFIG names (`npm run test:cluster`). It installs the generated
 * CRD (create or replace), uses a throw-away namespace and removes it afterwards.
 */
const KUBECONFIG = process.env.KUBECONFIG;
const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' } as const;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe.skipIf(!KUBECONFIG)('real cluster (set KUBECONFIG to run; skipped: KUBECONFIG is unset)', () => {
  const kc = new KubeConfig();
  const namespace = `obol-test-${randomUUID().slice(0, 8)}`;
  let api: CustomObjectsApi;

  beforeAll(async () => {
    kc.loadFromDefault();
    api = kc.makeApiClient(CustomObjectsApi);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const crd = buildCrd() as unknown as V1CustomResourceDefinition;
    try {
      const existing = await ext.readCustomResourceDefinition({ name: 'serviceoffers.obol.org' });
      await ext.replaceCustomResourceDefinition({ name: 'serviceoffers.obol.org', body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
    } catch {
      await ext.createCustomResourceDefinition({ body: crd });
    }
    // Wait (bounded) until the API server serves the resource.
    for (let i = 0; i < 50; i += 1) {
      const got = await ext.readCustomResourceDefinition({ name: 'serviceoffers.obol.org' });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  }, 30_000);

  afterAll(async () => {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  const body = (name: string) => ({
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name },
    spec: { upstream: { service: 'ollama' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } } },
  });

  it('the generated CRD applies its defaults and rejects a schema violation', async () => {
    const made = (await api.createNamespacedCustomObject({ ...SO, namespace, body: body('defaults') })) as { spec: Record<string, unknown> };
    expect(made.spec).toMatchObject({ type: 'http', upstream: { service: 'ollama', port: 11434, healthPath: '/health' }, payment: { scheme: 'exact', maxTimeoutSeconds: 300 } });
    const bad = { ...body('bad'), spec: { ...body('bad').spec, drainGracePeriod: '10 minutes' } };
    await expect(api.createNamespacedCustomObject({ ...SO, namespace, body: bad })).rejects.toMatchObject({ code: 422 });
  });

  it('status is a subresource: status writes keep spec and generation, main writes keep status', async () => {
    await api.createNamespacedCustomObject({ ...SO, namespace, body: body('status') });
    const withStatus = (await api.patchNamespacedCustomObjectStatus({ ...SO, namespace, name: 'status', body: { status: { observedGeneration: 1 }, spec: { drainAt: '2026-01-01T00:00:00Z' } } }, merge)) as { spec: Record<string, unknown>; status: unknown; metadata: { generation: number } };
    expect(withStatus.status).toEqual({ observedGeneration: 1 });
    expect(withStatus.spec.drainAt).toBeUndefined();
    expect(withStatus.metadata.generation).toBe(1);
    const main = (await api.patchNamespacedCustomObject({ ...SO, namespace, name: 'status', body: { status: { observedGeneration: 9 }, spec: { drainGracePeriod: '5m' } } }, merge)) as { status: unknown; metadata: { generation: number } };
    expect(main.status).toEqual({ observedGeneration: 1 });
    expect(main.metadata.generation).toBe(2);
  });

  it('sell stop then resume edits the offer in the cluster', async () => {
    await api.createNamespacedCustomObject({ ...SO, namespace, body: body('sold') });
    const io = { out: () => undefined, err: () => undefined };
    expect(await sell(['stop', 'sold', '-n', namespace, '--grace', '30m'], io, { kubeConfig: kc })).toBe(0);
    const stopped = (await api.getNamespacedCustomObject({ ...SO, namespace, name: 'sold' })) as { spec: Record<string, unknown> };
    expect(stopped.spec.drainAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(stopped.spec.drainGracePeriod).toBe('30m');
    expect(await sell(['stop', 'sold', '-n', namespace], io, { kubeConfig: kc })).toBe(1);
    expect(await sell(['resume', 'sold', '-n', namespace], io, { kubeConfig: kc })).toBe(0);
    const resumed = (await api.getNamespacedCustomObject({ ...SO, namespace, name: 'sold' })) as { spec: Record<string, unknown> };
    expect(resumed.spec.drainAt).toBeUndefined();
    expect(resumed.spec.drainGracePeriod).toBeUndefined();
  });
});
