import { createHash } from 'node:crypto';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { OFFER_API_VERSION, OFFER_KIND, offerPath, type ServiceOffer } from '../../../core/index.js';
import { isNotFound } from './kube-errors.js';

/**
 * Gateway API HTTPRoutes for published offers (SPEC §7): offer path → upstream Service, the prefix
 * rewritten to "/", attached to the configured parent Gateway and owned by the offer, so
 * Kubernetes garbage-collects it with the offer even if the agent is gone.
 */

export const ROUTE_GROUP = 'gateway.networking.k8s.io';
export const ROUTE_VERSION = 'v1';
export const ROUTE_PLURAL = 'httproutes';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const OFFER_LABEL = 'obol.org/offer';

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
}

export class GatewayRefError extends Error {
  readonly reason = 'invalid_gateway';
  constructor(value: string) {
    super(`--gateway must be <namespace>/<name>, got "${value}"`);
    this.name = 'GatewayRefError';
  }
}

export function parseGatewayRef(value: string): GatewayRef {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value);
  if (!match?.[1] || !match[3]) throw new GatewayRefError(value);
  return { namespace: match[1], name: match[3] };
}

/** Kubernetes limits: a label value stops at 63 characters, an object name at 253. */
export const LABEL_VALUE_MAX = 63;
export const NAME_MAX = 253;
const NAME_HASH_CHARS = 10;

/**
 * `value` as is when it fits in `max` characters; otherwise a prefix of it, `-` and a short hash of
 * the whole value, so two long values sharing a prefix stay distinct, and the result ends in an
 * alphanumeric character as names and label values must. Short values keep today's exact names.
 */
export function boundedName(value: string, max: number): string {
  if (value.length <= max) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, NAME_HASH_CHARS);
  const prefix = value.slice(0, max - NAME_HASH_CHARS - 1).replace(/[^a-zA-Z0-9]+$/, '');
  return prefix ? `${prefix}-${hash}` : hash;
}

/** The route's name in the offer's namespace. */
export function routeName(offerName: string): string {
  return boundedName(`obol-${offerName}`, NAME_MAX);
}

export function buildHttpRoute(offer: ServiceOffer, gateway: GatewayRef): Record<string, unknown> {
  const { metadata, spec } = offer;
  const backend = {
    name: spec.upstream.service,
    ...(spec.upstream.namespace && spec.upstream.namespace !== metadata.namespace ? { namespace: spec.upstream.namespace } : {}),
    port: spec.upstream.port,
  };
  return {
    apiVersion: `${ROUTE_GROUP}/${ROUTE_VERSION}`,
    kind: 'HTTPRoute',
    metadata: {
      name: routeName(metadata.name),
      namespace: metadata.namespace,
      labels: { [MANAGED_BY_LABEL]: 'obol-edge', [OFFER_LABEL]: boundedName(metadata.name, LABEL_VALUE_MAX) },
      ownerReferences: [
        { apiVersion: OFFER_API_VERSION, kind: OFFER_KIND, name: metadata.name, uid: metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      parentRefs: [{ group: ROUTE_GROUP, kind: 'Gateway', namespace: gateway.namespace, name: gateway.name }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: offerPath(offer) } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
          backendRefs: [backend],
        },
      ],
    },
  };
}

/** The field manager of every object the agent applies; `kubectl get -o yaml --show-managed-fields` names it. */
export const FIELD_MANAGER = 'obol-edge';

export interface RouteManager {
  /**
   * Server-side apply the offer's route as `FIELD_MANAGER`, unless this exact route is the last one
   * applied for it: the API server merges it, fills in the Gateway API defaults and writes only when
   * a field the agent owns changed. Forced, since the agent owns these routes; another manager's
   * extra fields stay.
   */
  ensure(offer: ServiceOffer): Promise<'applied' | 'unchanged'>;
  /** Delete the route of `namespace/name`; a missing route is fine. */
  remove(namespace: string, offerName: string): Promise<'deleted' | 'absent'>;
  /** Forget what was applied, so each route is applied once more (a resync undoes edits made by hand). */
  forgetApplied(): void;
}

export function createRouteManager(kubeConfig: KubeConfig, gateway: GatewayRef): RouteManager {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  const ref = (namespace: string, name: string) => ({ group: ROUTE_GROUP, version: ROUTE_VERSION, plural: ROUTE_PLURAL, namespace, name });
  /** The last route applied per `namespace/name` of its offer, as JSON (a string is a tenth of the object's heap). */
  const applied = new Map<string, string>();
  return {
    async ensure(offer) {
      const key = `${offer.metadata.namespace}/${offer.metadata.name}`;
      const desired = buildHttpRoute(offer, gateway);
      const text = JSON.stringify(desired);
      if (applied.get(key) === text) return 'unchanged';
      const target = ref(offer.metadata.namespace, routeName(offer.metadata.name));
      await api.patchNamespacedCustomObject({ ...target, body: desired, fieldManager: FIELD_MANAGER, force: true }, applyPatch);
      applied.set(key, text);
      return 'applied';
    },
    async remove(namespace, offerName) {
      applied.delete(`${namespace}/${offerName}`);
      try {
        await api.deleteNamespacedCustomObject(ref(namespace, routeName(offerName)));
        return 'deleted';
      } catch (error) {
        if (isNotFound(error)) return 'absent';
        throw error;
      }
    },
    forgetApplied() {
      applied.clear();
    },
  };
}
