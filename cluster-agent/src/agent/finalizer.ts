import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { OFFER_GROUP, OFFER_PLURAL, OFFER_VERSION } from '../sources/kube.js';
import type { KubeObjectFacts } from '../sources/source.js';
import { isNotFound } from './kube-errors.js';

/**
 * The `obol.org/catalog` finalizer (SPEC §7): a deleted offer stays until its route is gone and the
 * edge acknowledged a snapshot without it. Patches carry the resourceVersion they were computed
 * from, so a concurrent change fails with 409 and is retried on the next reconcile.
 */
export const CATALOG_FINALIZER = 'obol.org/catalog';

export interface FinalizerManager {
  add(object: KubeObjectFacts): Promise<void>;
  remove(object: KubeObjectFacts): Promise<void>;
}

export function createFinalizerManager(kubeConfig: KubeConfig): FinalizerManager {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  async function setFinalizers(object: KubeObjectFacts, finalizers: string[]): Promise<void> {
    const body = { metadata: { resourceVersion: object.resourceVersion, finalizers } };
    try {
      await api.patchNamespacedCustomObject(
        { group: OFFER_GROUP, version: OFFER_VERSION, plural: OFFER_PLURAL, namespace: object.namespace, name: object.name, body },
        options,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return {
    async add(object) {
      if (object.finalizers.includes(CATALOG_FINALIZER)) return;
      await setFinalizers(object, [...object.finalizers, CATALOG_FINALIZER]);
    },
    async remove(object) {
      if (!object.finalizers.includes(CATALOG_FINALIZER)) return;
      await setFinalizers(object, object.finalizers.filter((f) => f !== CATALOG_FINALIZER));
    },
  };
}
