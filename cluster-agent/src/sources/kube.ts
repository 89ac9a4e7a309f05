import { CustomObjectsApi, KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { ServiceOfferStatus, offerKey, parseServiceOffer, rawOfferKey } from '../../../core/index.js';
import { errorMessage, type Logger } from '../agent/log.js';
import type { KubeObjectFacts, OfferRecord, OfferSource } from './source.js';

/**
 * `--source kube`: ServiceOffers through `@kubernetes/client-node` informers (list + watch from the
 * list's resourceVersion, bookmarks on, relist on 410 Expired — the informer does that — and a
 * restart with backoff after any other watch error). All namespaces, or one informer per listed
 * namespace.
 */

export const OFFER_GROUP = 'obol.org';
export const OFFER_VERSION = 'v1alpha1';
export const OFFER_PLURAL = 'serviceoffers';

/** A Watch that asks for bookmarks, so a quiet watch still advances its resourceVersion. */
class BookmarkWatch extends Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

const Meta = z.object({
  name: z.string(),
  namespace: z.string().default('default'),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  deletionTimestamp: z.unknown().optional(),
  finalizers: z.array(z.string()).optional(),
});

export function recordOf(raw: unknown): OfferRecord | undefined {
  const meta = Meta.safeParse((raw as { metadata?: unknown } | null)?.metadata);
  if (!meta.success) return undefined;
  const status = ServiceOfferStatus.safeParse((raw as { status?: unknown }).status);
  const key = offerKey(meta.data);
  const object: KubeObjectFacts = {
    name: meta.data.name,
    namespace: meta.data.namespace,
    uid: meta.data.uid,
    generation: meta.data.generation,
    resourceVersion: meta.data.resourceVersion,
    deleting: meta.data.deletionTimestamp !== undefined && meta.data.deletionTimestamp !== null,
    finalizers: meta.data.finalizers ?? [],
    status: status.success ? status.data : undefined,
  };
  return { key: rawOfferKey(raw, key), input: { key, parsed: parseServiceOffer(raw) }, object };
}

export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Empty = all namespaces. */
  readonly namespaces: readonly string[];
  readonly log: Logger;
  /** Delay before restarting a failed watch; default 1 s. */
  readonly restartDelayMs?: number;
}

type Informer = ListWatch<KubernetesObject>;

export function createKubeSource(options: KubeSourceOptions): OfferSource {
  const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const watch = new BookmarkWatch(options.kubeConfig);
  const informers: Informer[] = [];
  const cache = new WeakMap<object, OfferRecord | undefined>();
  let stopped = false;
  let synced = false;

  const record = (raw: KubernetesObject): OfferRecord | undefined => {
    if (!cache.has(raw)) cache.set(raw, recordOf(raw));
    return cache.get(raw);
  };

  function makeInformer(namespace: string | undefined): Informer {
    const base = `/apis/${OFFER_GROUP}/${OFFER_VERSION}`;
    const path = namespace ? `${base}/namespaces/${namespace}/${OFFER_PLURAL}` : `${base}/${OFFER_PLURAL}`;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> =>
      namespace
        ? api.listNamespacedCustomObject({ group: OFFER_GROUP, version: OFFER_VERSION, namespace, plural: OFFER_PLURAL })
        : api.listClusterCustomObject({ group: OFFER_GROUP, version: OFFER_VERSION, plural: OFFER_PLURAL });
    return new ListWatch<KubernetesObject>(path, watch, list, false);
  }

  /** One start of an informer; false when its listing or watch failed at once. */
  async function startOnce(informer: Informer): Promise<boolean> {
    let failed = false;
    const onError = () => {
      failed = true;
    };
    informer.on('error', onError);
    await informer.start();
    informer.off('error', onError);
    return !failed;
  }

  /** After the first sync, any watch error restarts the informer from its last resourceVersion. */
  function keepAlive(informer: Informer): void {
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      options.log.warn('ServiceOffer watch failed; restarting', { error: errorMessage(error) });
      setTimeout(() => {
        if (!stopped) void informer.start();
      }, options.restartDelayMs ?? 1000);
    });
  }

  return {
    kind: 'kube',
    get synced() {
      return synced;
    },
    async start(onChange) {
      const targets = options.namespaces.length ? options.namespaces : [undefined];
      for (const namespace of targets) {
        const informer = makeInformer(namespace);
        const changed = (raw: KubernetesObject) => {
          const r = record(raw);
          if (r) onChange(r.key);
        };
        informer.on('add', changed);
        informer.on('update', changed);
        informer.on('delete', changed);
        informers.push(informer);
      }
      // The first listing must succeed before the source counts as synced: retry until it does.
      for (const informer of informers) {
        while (!(await startOnce(informer))) {
          if (stopped) return;
          options.log.warn('ServiceOffer listing failed; retrying', { restartInMs: options.restartDelayMs ?? 1000 });
          await new Promise((resolve) => setTimeout(resolve, options.restartDelayMs ?? 1000));
        }
        keepAlive(informer);
      }
      synced = true;
    },
    records() {
      return informers.flatMap((i) => i.list().flatMap((raw) => record(raw) ?? []));
    },
    get(key) {
      const [namespace = '', name = ''] = key.split('/');
      for (const informer of informers) {
        const raw = informer.get(name, namespace);
        if (raw) return record(raw);
      }
      return undefined;
    },
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
