import { badRequest, ApiError } from './status.js';

/** One resource type the fake serves. */
export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  /** Custom resources: generation counts spec changes, updates need a resourceVersion. */
  readonly custom: boolean;
  readonly shortNames?: readonly string[];
}

export const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, statusSubresource: true, custom: false, shortNames: ['ns'] },
  { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers', singular: 'serviceoffer', kind: 'ServiceOffer', namespaced: true, statusSubresource: true, custom: true, shortNames: ['so'] },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', namespaced: true, statusSubresource: true, custom: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, statusSubresource: false, custom: false },
  { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition', namespaced: false, statusSubresource: true, custom: true, shortNames: ['crd', 'crds'] },
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

export type ParsedPath =
  | { kind: 'discovery'; body: unknown }
  | { kind: 'resource'; target: ResourceTarget }
  | { kind: 'unknown' };

/** Map `/api/v1/...` and `/apis/<group>/<version>/...` onto a resource (or a discovery document). */
export function parsePath(pathname: string): ParsedPath {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'discovery', body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    return parts[1] === 'v1' ? parseRest('', 'v1', parts.slice(2)) : { kind: 'unknown' };
  }
  if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'discovery', body: groupList() };
    const [, group = '', version = ''] = parts;
    if (parts.length === 2) {
      const g = groupList().groups.find((x) => x.name === group);
      return g ? { kind: 'discovery', body: { kind: 'APIGroup', apiVersion: 'v1', ...g } } : { kind: 'unknown' };
    }
    return parseRest(group, version, parts.slice(3));
  }
  return { kind: 'unknown' };
}

function parseRest(group: string, version: string, rest: string[]): ParsedPath {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return { kind: 'unknown' };
  if (rest.length === 0) return { kind: 'discovery', body: resourceList(group, version, defs) };
  const namespacedDef = rest[0] === 'namespaces' && rest.length >= 3 ? defs.find((d) => d.namespaced && d.plural === rest[2]) : undefined;
  if (namespacedDef) return target(namespacedDef, rest[1], rest.slice(3));
  const def = defs.find((d) => d.plural === rest[0]);
  if (!def) return { kind: 'unknown' };
  if (def.namespaced) return { kind: 'resource', target: { def } };
  return target(def, undefined, rest.slice(1));
}

function target(def: ResourceDef, namespace: string | undefined, tail: string[]): ParsedPath {
  const [name, sub, ...extra] = tail;
  if (extra.length > 0 || (sub !== undefined && sub !== 'status')) return { kind: 'unknown' };
  if (sub === 'status' && !def.statusSubresource) return { kind: 'unknown' };
  const t: ResourceTarget = { def, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(sub === 'status' ? { subresource: 'status' as const } : {}) };
  if (def.namespaced && namespace === undefined && name !== undefined) throw badRequest('a namespaced resource needs a namespace');
  return { kind: 'resource', target: t };
}

function groupList() {
  const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))].map((name) => {
    const version = RESOURCES.find((r) => r.group === name)?.version ?? 'v1';
    const gv = { groupVersion: `${name}/${version}`, version };
    return { name, versions: [gv], preferredVersion: gv };
  });
  return { kind: 'APIGroupList' as const, apiVersion: 'v1', groups };
}

const VERBS_MAIN = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(group: string, version: string, defs: ResourceDef[]) {
  const resources = defs.flatMap((d) => [
    { name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: VERBS_MAIN, ...(d.shortNames ? { shortNames: d.shortNames } : {}) },
    ...(d.statusSubresource ? [{ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] }] : []),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

export function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
}
