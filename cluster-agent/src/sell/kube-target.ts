import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { SellError } from './drain-edit.js';
import { byNamespaceThenName, drainFieldsOf, type OfferRecord, type SellTarget } from './target.js';

/** `sell` against the cluster: read with CustomObjectsApi, write with a merge patch guarded by resourceVersion. */

const OFFERS = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' } as const;
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type KubeObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

function record(object: KubeObject): OfferRecord {
  return { namespace: object.metadata?.namespace ?? 'default', name: object.metadata?.name ?? '', object, drain: drainFieldsOf(object) };
}

/** Turn client failures into one-line SellErrors; the API server's own message is kept. */
function explain(error: unknown, what: string): SellError {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    if (error.code === 404) return new SellError('offer_not_found', `${what}: not found`);
    if (error.code === 409) return new SellError('conflict', `${what}: the offer changed while it was being edited; run the command again`);
    return new SellError('source_failed', `${what}: the API server answered ${error.code}${typeof message === 'string' ? `: ${message}` : ''}`);
  }
  return new SellError('source_failed', `${what}: ${(error as Error).message ?? String(error)}`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function createKubeTarget(kubeConfig: KubeConfig): SellTarget {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return {
    defaultNamespace: context?.namespace ?? 'default',
    where: (r) => `ServiceOffer ${r.namespace}/${r.name} in cluster ${kubeConfig.getCurrentCluster()?.server ?? '(unknown)'}`,
    async list(namespace) {
      let list: { items?: KubeObject[] };
      try {
        list = (namespace ? await api.listNamespacedCustomObject({ ...OFFERS, namespace }) : await api.listClusterCustomObject({ ...OFFERS })) as { items?: KubeObject[] };
      } catch (error) {
        throw explain(error, 'listing ServiceOffers');
      }
      return (list.items ?? []).map(record).sort(byNamespaceThenName);
    },
    async get(namespace, name) {
      try {
        return record((await api.getNamespacedCustomObject({ ...OFFERS, namespace, name })) as KubeObject);
      } catch (error) {
        const failure = explain(error, `ServiceOffer ${namespace}/${name}`);
        if (failure.reason === 'offer_not_found') throw new SellError('offer_not_found', `no ServiceOffer ${namespace}/${name} in the cluster`);
        throw failure;
      }
    },
    async setDrain(r, fields) {
      const resourceVersion = (r.object as KubeObject).metadata?.resourceVersion;
      // The resourceVersion makes the patch conditional: the "already draining" check cannot race.
      const body = { metadata: { resourceVersion }, spec: fields ?? { drainAt: null, drainGracePeriod: null } };
      try {
        await api.patchNamespacedCustomObject({ ...OFFERS, namespace: r.namespace, name: r.name, body }, MERGE_PATCH);
      } catch (error) {
        throw explain(error, `ServiceOffer ${r.namespace}/${r.name}`);
      }
    },
  };
}
