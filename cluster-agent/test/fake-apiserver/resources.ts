import { badRequest } from './status.js';

/** One resource type the fake serves. */
export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  /** Custom resources: generation counts spec changes, updates need a resourceVersion. */
  readonly custom: boolean;
}

/** ServiceOffers, the namespaces they must be created in, and Leases (to stall leader election); nothing else. */
export const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true, custom: false },
  { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', kind: 'ServiceOffer', namespaced: true, statusSubresource: true, custom: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true, statusSubresource: false, custom: false },
];

export function apiVersionOf(def: ResourceDef): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

export function findResource(plural: string): ResourceDef {
  const def = RESOURCES.find((r) => r.plural === plural);
  if (!def) throw new Error(`the fake API server does not serve "${plural}"`);
  return def;
}

/** A parsed resource URL. `name` absent = collection; `subresource` is only ever `status`. */
export interface ResourceTarget {
  readonly def: ResourceDef;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: 'status';
}

/** Map `/api/v1/...` and `/apis/<group>/<version>/...` onto a resource; undefined when it is not one. */
export function parsePath(pathname: string): ResourceTarget | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] === 'api' && parts[1] === 'v1') return parseRest('', 'v1', parts.slice(2));
  if (parts[0] === 'apis' && parts.length >= 3) return parseRest(parts[1] ?? '', parts[2] ?? '', parts.slice(3));
  return undefined;
}

function parseRest(group: string, version: string, rest: string[]): ResourceTarget | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  const namespacedDef = rest[0] === 'namespaces' && rest.length >= 3 ? defs.find((d) => d.namespaced && d.plural === rest[2]) : undefined;
  if (namespacedDef) return target(namespacedDef, rest[1], rest.slice(3));
  const def = defs.find((d) => d.plural === rest[0]);
  if (!def) return undefined;
  if (def.namespaced) return rest.length === 1 ? { def } : undefined;
  return target(def, undefined, rest.slice(1));
}

function target(def: ResourceDef, namespace: string | undefined, tail: string[]): ResourceTarget | undefined {
  const [name, sub, ...extra] = tail;
  if (extra.length > 0 || (sub !== undefined && sub !== 'status')) return undefined;
  if (sub === 'status' && !def.statusSubresource) return undefined;
  if (def.namespaced && namespace === undefined && name !== undefined) throw badRequest('a namespaced resource needs a namespace');
  return { def, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(sub === 'status' ? { subresource: 'status' as const } : {}) };
}
