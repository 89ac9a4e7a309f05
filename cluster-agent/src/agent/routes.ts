import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
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

/** The route's name in the offer's namespace; Kubernetes names stop at 253 characters. */
export function routeName(offerName: string): string {
  return `obol-${offerName}`.slice(0, 253);
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
      labels: { [MANAGED_BY_LABEL]: 'obol-edge', [OFFER_LABEL]: metadata.name },
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

export interface RouteManager {
  /** Create the route, or replace it when its spec or owner differ. */
  ensure(offer: ServiceOffer): Promise<'created' | 'updated' | 'unchanged'>;
  /** Delete the route of `namespace/name`; a missing route is fine. */
  remove(namespace: string, offerName: string): Promise<'deleted' | 'absent'>;
}

export function createRouteManager(kubeConfig: KubeConfig, gateway: GatewayRef): RouteManager {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = (namespace: string, name: string) => ({ group: ROUTE_GROUP, version: ROUTE_VERSION, plural: ROUTE_PLURAL, namespace, name });
  return {
    async ensure(offer) {
      const desired = buildHttpRoute(offer, gateway);
      const target = ref(offer.metadata.namespace, routeName(offer.metadata.name));
      let existing: { metadata?: { resourceVersion?: string; ownerReferences?: unknown }; spec?: unknown } | undefined;
      try {
        existing = await api.getNamespacedCustomObject(target);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (!existing) {
        await api.createNamespacedCustomObject({ ...target, body: desired });
        return 'created';
      }
      const meta = desired.metadata as Record<string, unknown>;
      const same = JSON.stringify(existing.spec) === JSON.stringify(desired.spec) && JSON.stringify(existing.metadata?.ownerReferences) === JSON.stringify(meta.ownerReferences);
      if (same) return 'unchanged';
      const body = { ...desired, metadata: { ...meta, resourceVersion: existing.metadata?.resourceVersion } };
      await api.replaceNamespacedCustomObject({ ...target, body });
      return 'updated';
    },
    async remove(namespace, offerName) {
      try {
        await api.deleteNamespacedCustomObject(ref(namespace, routeName(offerName)));
        return 'deleted';
      } catch (error) {
        if (isNotFound(error)) return 'absent';
        throw error;
      }
    },
  };
}
