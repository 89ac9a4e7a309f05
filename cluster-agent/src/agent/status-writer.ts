import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { OFFER_API_VERSION, OFFER_KIND } from '../../../core/index.js';
import { OFFER_GROUP, OFFER_PLURAL, OFFER_VERSION, recordOf } from '../sources/kube.js';
import type { KubeObjectFacts } from '../sources/source.js';
import { isConflict, isNotFound } from './kube-errors.js';
import type { OfferStatus } from './reconcile.js';

/**
 * Writes ServiceOffer status through the status subresource (PUT with the object's
 * resourceVersion). On 409 Conflict it re-reads the object, recomputes the status from the fresh
 * copy (so lastTransitionTime stays right) and tries again; an unchanged status is not written.
 */

export class StatusWriteError extends Error {
  readonly reason = 'status_write_failed';
  constructor(message: string) {
    super(message);
    this.name = 'StatusWriteError';
  }
}

/** Given the stored object, the status to write, or undefined when it is already right. */
export type ComputeStatus = (object: KubeObjectFacts) => OfferStatus | undefined;

export interface StatusWriter {
  write(object: KubeObjectFacts, compute: ComputeStatus): Promise<'written' | 'unchanged' | 'gone'>;
  readonly conflicts: number;
}

export function createStatusWriter(kubeConfig: KubeConfig, maxAttempts = 5): StatusWriter {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  let conflicts = 0;
  const ref = (o: KubeObjectFacts) => ({ group: OFFER_GROUP, version: OFFER_VERSION, plural: OFFER_PLURAL, namespace: o.namespace, name: o.name });

  async function reread(o: KubeObjectFacts): Promise<KubeObjectFacts | undefined> {
    try {
      return recordOf(await api.getNamespacedCustomObject(ref(o)))?.object;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    get conflicts() {
      return conflicts;
    },
    async write(object, compute) {
      let current: KubeObjectFacts | undefined = object;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (!current) return 'gone';
        const status = compute(current);
        if (!status) return 'unchanged';
        const body = {
          apiVersion: OFFER_API_VERSION,
          kind: OFFER_KIND,
          metadata: { name: current.name, namespace: current.namespace, resourceVersion: current.resourceVersion },
          status,
        };
        try {
          await api.replaceNamespacedCustomObjectStatus({ ...ref(current), body });
          return 'written';
        } catch (error) {
          if (isNotFound(error)) return 'gone';
          if (!isConflict(error)) throw error;
          conflicts++;
          current = await reread(current);
        }
      }
      throw new StatusWriteError(`status of ${object.namespace}/${object.name} kept conflicting after ${maxAttempts} attempts`);
    },
  };
}
