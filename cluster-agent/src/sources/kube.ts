import { CustomObjectsApi, KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { ServiceOfferStatus, offerKey, parseServiceOffer, rawOfferKey, type OfferParseResult, type ServiceOffer } from '../../../core/index.js';
import { jsonEqual } from '../../../core/json-equal.js';
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

/** The offer validated whole (its status too, as ever) but kept without the status, which `object.status` holds. */
function parseOffer(raw: unknown): OfferParseResult {
  const parsed = parseServiceOffer(raw);
  if (!parsed.ok || parsed.offer.status === undefined) return parsed;
  const { status: _status, ...offer } = parsed.offer;
  return { ok: true, offer };
}

/** The offer's `namespace/name` from its metadata alone (deletions need no more). */
function keyOf(raw: unknown): string | undefined {
  const meta = Meta.safeParse((raw as { metadata?: unknown } | null)?.metadata);
  return meta.success ? rawOfferKey(raw, offerKey(meta.data)) : undefined;
}

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
  return { key: rawOfferKey(raw, key), input: { key, parsed: parseOffer(raw) }, object };
}

/**
 * The same offer for planning: status, finalizer and bookkeeping writes (status, resourceVersion,
 * generation, finalizers, deletionTimestamp) change the object but nothing the plan, the routes or
 * the snapshot read from the parsed offer (the controller reads those facts from `object`).
 */
export function sameOffer(a: OfferParseResult, b: OfferParseResult): boolean {
  if (!a.ok || !b.ok) return jsonEqual(a, b);
  const x: ServiceOffer = a.offer;
  const y: ServiceOffer = b.offer;
  const m = x.metadata;
  const n = y.metadata;
  return (
    x.apiVersion === y.apiVersion &&
    x.kind === y.kind &&
    m.name === n.name &&
    m.namespace === n.namespace &&
    m.uid === n.uid &&
    m.creationTimestamp === n.creationTimestamp &&
    jsonEqual(m.annotations, n.annotations) &&
    jsonEqual(m.labels, n.labels) &&
    jsonEqual(x.spec, y.spec)
  );
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

/**
 * The informer caches every object it lists or watches, and the record already holds what the
 * agent needs of it: cut the cached copy down to what the informer itself reads (name, namespace,
 * resourceVersion), as a client-go informer's transform function would. A real API server's
 * objects carry managedFields (a few KiB each): at 10,000 offers the full copies overflowed the
 * Deployment's 128 MiB heap.
 */
function keepMetadataOnly(raw: KubernetesObject): void {
  const object = raw as { spec?: unknown; status?: unknown; metadata?: Record<string, unknown> };
  delete object.spec;
  delete object.status;
  const meta = object.metadata;
  if (meta) object.metadata = { name: meta.name, namespace: meta.namespace, resourceVersion: meta.resourceVersion };
}

export function createKubeSource(options: KubeSourceOptions): OfferSource {
  const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const watch = new BookmarkWatch(options.kubeConfig);
  const informers: Informer[] = [];
  /** The informers' objects as records, kept in step by their events; an unchanged spec keeps its parsed input. */
  const records = new Map<string, OfferRecord>();
  let list: readonly OfferRecord[] | undefined;
  let stopped = false;
  let synced = false;

  function upsert(raw: KubernetesObject): string | undefined {
    const next = recordOf(raw);
    keepMetadataOnly(raw);
    if (!next) return undefined;
    const before = records.get(next.key);
    // Status and finalizer writes change the object, not the offer: keep the parsed input's identity.
    const input = before && sameOffer(before.input.parsed, next.input.parsed) ? before.input : next.input;
    records.set(next.key, input === next.input ? next : { ...next, input });
    list = undefined;
    return next.key;
  }

  function remove(raw: KubernetesObject): string | undefined {
    const key = keyOf(raw);
    if (key === undefined) return undefined;
    records.delete(key);
    list = undefined;
    return key;
  }

  function makeInformer(namespace: string | undefined): Informer {
    const base = `/apis/${OFFER_GROUP}/${OFFER_VERSION}`;
    const path = namespace ? `${base}/namespaces/${namespace}/${OFFER_PLURAL}` : `${base}/${OFFER_PLURAL}`;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> =>
      namespace
        ? api.listNamespacedCustomObject({ group: OFFER_GROUP, version: OFFER_VERSION, namespace, plural: OFFER_PLURAL })
        : api.listClusterCustomObject({ group: OFFER_GROUP, version: OFFER_VERSION, plural: OFFER_PLURAL });
    return new ListWatch<KubernetesObject>(path, watch, list, false);
  }

  /** One start of an informer: why its listing or watch failed at once, or undefined when it runs. */
  async function startOnce(informer: Informer): Promise<{ error: unknown } | undefined> {
    let failure: { error: unknown } | undefined;
    const onError = (error: unknown) => {
      failure = { error };
    };
    informer.on('error', onError);
    await informer.start();
    informer.off('error', onError);
    return failure;
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
        const report = (key: string | undefined) => {
          if (key !== undefined) onChange(key);
        };
        informer.on('add', (raw) => report(upsert(raw)));
        informer.on('update', (raw) => report(upsert(raw)));
        informer.on('delete', (raw) => report(remove(raw)));
        informers.push(informer);
      }
      // The first listing must succeed before the source counts as synced: retry until it does.
      for (const [index, informer] of informers.entries()) {
        for (let failure = await startOnce(informer); failure; failure = await startOnce(informer)) {
          if (stopped) return;
          const restartInMs = options.restartDelayMs ?? 1000;
          // Before the first sync nothing runs: say why (RBAC's message, or that the API server is unreachable).
          options.log.warn('cannot list and watch ServiceOffers; retrying', { namespace: targets[index] ?? '(all)', error: errorMessage(failure.error), restartInMs });
          await new Promise((resolve) => setTimeout(resolve, restartInMs));
        }
        keepAlive(informer);
      }
      synced = true;
    },
    records() {
      list ??= [...records.values()];
      return list;
    },
    get: (key) => records.get(key),
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
