import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { z } from 'zod';
import { buildCrd, CRD_PATH, renderCrdYaml } from './generate-crd.js';
import { parseGatewayRef } from '../src/agent/routes.js';
import { agentContainer, deployedNodeOptions, heapLimitsMiB, imageNodeOptions } from './node-options.js';
import { SchemaConversionError, toStructuralSchema, type Schema } from './structural-schema.js';

const DIR = join(import.meta.dirname, '.');
const MANIFESTS = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
/** Read a dotted path (`spec.template.spec`, numbers index arrays) from parsed YAML. */
function dig(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}
function list(value: unknown, path: string): unknown[] {
  const found = dig(value, path);
  if (!Array.isArray(found)) throw new Error(`${path} is not a list`);
  return found;
}
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; [k: string]: unknown };

function docsOf(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    expect(d.errors, `${file}: ${d.errors.map((e) => e.message).join('; ')}`).toEqual([]);
    return d.toJS() as Doc;
  });
}
const allDocs = () => MANIFESTS.flatMap(docsOf);
const find = (kind: string, name?: string) => {
  const doc = allDocs().find((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (!doc) throw new Error(`no ${kind} ${name ?? ''}`);
  return doc;
};

/** PSS `restricted` volume types (no hostPath, no other in-tree volume). */
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * A Deployment meets the restricted Pod Security profile, field by field, in a namespace that
 * enforces it. Returns the pod spec for the caller's own checks.
 */
function expectRestrictedDeployment(dep: Doc): unknown {
  const ns = find('Namespace', String(dep.metadata?.namespace));
  expect(dig(ns, 'metadata.labels')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  const pod = dig(dep, 'spec.template.spec');
  expect(dig(pod, 'securityContext')).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  expect(dig(pod, 'hostNetwork') ?? false).toBe(false);
  expect(dig(pod, 'hostPID') ?? false).toBe(false);
  expect(dig(pod, 'hostIPC') ?? false).toBe(false);
  const containers = [...list(pod, 'containers'), ...((dig(pod, 'initContainers') as unknown[] | undefined) ?? [])];
  expect(containers.length).toBeGreaterThan(0);
  for (const c of containers) {
    const name = String(dig(c, 'name'));
    expect(dig(c, 'securityContext.runAsNonRoot'), name).toBe(true);
    expect(dig(c, 'securityContext.runAsUser'), name).toBe(65532);
    expect(dig(c, 'securityContext.readOnlyRootFilesystem'), name).toBe(true);
    expect(dig(c, 'securityContext.allowPrivilegeEscalation'), name).toBe(false);
    expect(dig(c, 'securityContext.privileged'), name).toBe(false);
    expect(dig(c, 'securityContext.capabilities'), name).toEqual({ drop: ['ALL'] });
    expect(dig(c, 'securityContext.seccompProfile'), name).toEqual({ type: 'RuntimeDefault' });
    // requests for scheduling, a memory limit so a leak is a restart rather than a node's problem
    expect(dig(c, 'resources.requests.cpu'), name).toBeDefined();
    expect(dig(c, 'resources.requests.memory'), name).toBeDefined();
    expect(dig(c, 'resources.limits.memory'), name).toBeDefined();
  }
  for (const v of (dig(pod, 'volumes') as unknown[] | undefined) ?? []) {
    const types = Object.keys(v as object).filter((k) => k !== 'name');
    expect(types.every((t) => RESTRICTED_VOLUME_TYPES.includes(t)), `volume ${String(dig(v, 'name'))}: ${types.join()}`).toBe(true);
  }
  return pod;
}

/** cloudflared's own config: the `config.yaml` key of the ConfigMap the cloudflared pods mount. */
function cloudflaredConfig(): unknown {
  const data = find('ConfigMap', 'cloudflared').data as Record<string, string> | undefined;
  const text = data?.['config.yaml'];
  if (text === undefined) throw new Error('ConfigMap cloudflared has no config.yaml');
  return parse(text);
}

const container = (dep: Doc, name: string) => {
  const found = list(dep, 'spec.template.spec.containers').find((c) => dig(c, 'name') === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
};

/** Walk every schema node with its path. */
function walk(node: Schema, path: string, visit: (n: Schema, p: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, Schema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items as Schema, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Schema, `${path}.*`, visit);
}

describe('ServiceOffer CRD', () => {
  it('the committed crd.yaml is exactly what the zod schema generates (run `npm run generate:crd` when this fails)', () => {
    expect(readFileSync(CRD_PATH, 'utf8')).toBe(renderCrdYaml());
  });

  it('names, scope, status subresource and printer columns', () => {
    const crd: unknown = parse(readFileSync(CRD_PATH, 'utf8'));
    expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'serviceoffers.obol.org' } });
    expect(dig(crd, 'spec')).toMatchObject({ group: 'obol.org', scope: 'Namespaced', names: { kind: 'ServiceOffer', plural: 'serviceoffers', singular: 'serviceoffer', shortNames: ['so'] } });
    expect(dig(crd, 'spec.versions.0')).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    expect(list(crd, 'spec.versions.0.additionalPrinterColumns').map((c) => dig(c, 'name'))).toEqual(['Type', 'Model', 'Price', 'Network', 'Ready', 'Draining', 'Drain Ends', 'Age']);
  });

  it('the schema is structural: every node typed, no properties with additionalProperties, no JSON-Schema-only keywords', () => {
    const root = dig(buildCrd(), 'spec.versions.0.schema.openAPIV3Schema') as Schema;
    let nodes = 0;
    walk(root, '', (node, path) => {
      nodes += 1;
      if (!node['x-kubernetes-preserve-unknown-fields']) expect(typeof node.type, path).toBe('string');
      expect(node.properties !== undefined && node.additionalProperties !== undefined, path).toBe(false);
      for (const bad of ['$schema', '$ref', 'anyOf', 'oneOf', 'allOf', 'propertyNames', 'const']) expect(node, path).not.toHaveProperty(bad);
    });
    expect(nodes).toBeGreaterThan(40);
  });

  it('keeps defaults, patterns, bounds, enums and required fields from zod', () => {
    const spec = dig(buildCrd(), 'spec.versions.0.schema.openAPIV3Schema.properties.spec');
    const prop = (path: string) => dig(spec, `properties.${path.split('.').join('.properties.')}`);
    expect(dig(spec, 'required')).toEqual(['upstream', 'payment']);
    expect(prop('type')).toMatchObject({ default: 'http', enum: ['inference', 'fine-tuning', 'http', 'agent'] });
    expect(prop('upstream.port')).toMatchObject({ type: 'integer', default: 11434, minimum: 1, maximum: 65535 });
    expect(prop('payment.maxTimeoutSeconds')).toMatchObject({ default: 300, minimum: 1, maximum: 86400 });
    expect(dig(prop('payment.payTo'), 'pattern')).toBe('^0x[0-9a-fA-F]{40}$');
    expect(prop('drainGracePeriod')).toMatchObject({ minLength: 1, maxLength: 32, pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$' });
    expect(prop('registration.metadata')).toEqual({ type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } });
    expect(dig(prop('registration.services'), 'items.x-kubernetes-preserve-unknown-fields')).toBe(true);
  });

  it('the converter refuses what a CRD cannot express instead of dropping it', () => {
    expect(() => toStructuralSchema({ $defs: {}, type: 'object' })).toThrow(SchemaConversionError);
    expect(() => toStructuralSchema({ type: 'string', not: { const: 'x' } })).toThrow(/unsupported keyword "not"/);
    expect(() => toStructuralSchema({ type: ['string', 'null'] })).toThrow(/single type/);
    const converted = toStructuralSchema(z.toJSONSchema(z.object({ tag: z.literal('a'), n: z.number().int() })) as Schema);
    expect(converted).toEqual({ type: 'object', properties: { tag: { type: 'string', enum: ['a'] }, n: { type: 'integer', format: 'int64' } }, required: ['tag', 'n'] });
  });
});

describe('deployment manifests', () => {
  it('every manifest parses and every object has apiVersion, kind and a name', () => {
    expect(MANIFESTS.sort()).toEqual(['cloudflared.yaml', 'crd.yaml', 'deployment.yaml', 'gateway.yaml', 'monitoring.yaml', 'rbac.yaml']);
    for (const doc of allDocs()) {
      expect(typeof doc.apiVersion).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(doc.metadata?.name).toMatch(/^[a-z0-9.-]+$/);
    }
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    for (const file of kustomization.resources) expect(MANIFESTS).toContain(file);
  });

  it('no two objects share kind/namespace/name', () => {
    const ids = allDocs().map((d) => `${String(d.kind)}/${d.metadata?.namespace ?? ''}/${String(d.metadata?.name)}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the agent Deployment satisfies the restricted Pod Security profile, field by field', () => {
    const dep = find('Deployment', 'obol-agent');
    expect(dig(dep, 'metadata.namespace')).toBe('obol-system');
    expect(dig(dep, 'spec.replicas')).toBe(2);
    const pod = expectRestrictedDeployment(dep);
    for (const c of list(pod, 'containers')) {
      expect(dig(c, 'livenessProbe.httpGet.path')).toBe('/healthz');
      expect(dig(c, 'readinessProbe.httpGet.path')).toBe('/readyz');
      expect(list(c, 'env').map((e) => dig(e, 'name'))).toContain('OBOL_EDGE_URL');
      expect(JSON.stringify(dig(c, 'env'))).not.toMatch(/OBOL_CATALOG_KEY/);
    }
    const volumes = list(pod, 'volumes');
    const keyVolume = volumes.find((v) => dig(v, 'name') === 'catalog-key');
    expect(dig(keyVolume, 'secret')).toMatchObject({ secretName: 'obol-catalog-key', defaultMode: 0o440 });
    expect(volumes.every((v) => dig(v, 'secret') !== undefined || dig(v, 'emptyDir') !== undefined)).toBe(true);
  });

  it('RBAC is least privilege: no wildcards, no secrets, offers are never created or deleted, leases only in obol-system', () => {
    const role = find('ClusterRole', 'obol-agent');
    const rules = dig(role, 'rules') as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    for (const r of rules) {
      expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
      expect(r.resources).not.toContain('secrets');
    }
    const verbs = (resource: string) => rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs).sort();
    // Exactly what the real authorizer showed the agent needs (cluster-agent/test/cluster/rbac.test.ts).
    expect(verbs('serviceoffers')).toEqual(['get', 'list', 'patch', 'watch']);
    expect(verbs('serviceoffers/status')).toEqual(['update']);
    expect(verbs('serviceoffers/finalizers')).toEqual(['update']);
    expect(verbs('httproutes')).toEqual(['create', 'delete', 'patch']);
    expect(verbs('leases')).toEqual([]);
    const leaseRole = find('Role');
    expect(dig(leaseRole, 'metadata.namespace')).toBe('obol-system');
    expect(dig(leaseRole, 'rules')).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: expect.arrayContaining(['get', 'create', 'update']) }]);
    for (const binding of [find('ClusterRoleBinding'), find('RoleBinding')]) expect(dig(binding, 'subjects')).toEqual([{ kind: 'ServiceAccount', name: 'obol-agent', namespace: 'obol-system' }]);
    expect(dig(find('Deployment', 'obol-agent'), 'spec.template.spec.serviceAccountName')).toBe('obol-agent');
  });

  it('the PrometheusRule names only SPEC §8 metrics and guards every ratio with + 1e-9', () => {
    const spec8 = ['requests_total', 'payment_required_total', 'payment_verified_total', 'payment_failed_total', 'charged_requests_total', 'last_payment_success_seconds', 'payment_failure_reasons_total'].map((m) => `obol_x402_verifier_${m}`);
    const rule = find('PrometheusRule', 'obol-x402');
    const rules = (dig(rule, 'spec.groups') as Array<{ rules: Array<{ expr: string; record?: string; alert?: string }> }>).flatMap((g) => g.rules);
    const records = rules.flatMap((r) => (r.record ? [r.record] : []));
    expect(new Set(records).size).toBe(records.length);
    expect(rules.filter((r) => r.alert).map((r) => r.alert)).toEqual(['ObolX402HighPaymentFailureRate', 'ObolX402ChallengesWithoutSettlements']);
    for (const r of rules) {
      const raw = [...r.expr.matchAll(/\bobol_x402_[a-z_]+\b/g)].map((m) => m[0]);
      for (const name of raw) expect(spec8, `${name} in ${r.record ?? r.alert}`).toContain(name);
      for (const inc of r.expr.matchAll(/increase\((\w+)\[/g)) expect(inc[1]).toMatch(/_total$/);
      const divisions = r.expr.split(/\s\/\s/).length - 1;
      expect((r.expr.match(/\+ 1e-9\)/g) ?? []).length, String(r.alert ?? r.record)).toBe(divisions);
      expect(r.expr).not.toMatch(/clamp_min|, 1\)/);
    }
    expect(records.some((r) => r.includes('charged_requests'))).toBe(true);
    expect(rules.find((r) => r.record?.includes('charged_requests'))?.expr).toContain('sum by (offer_namespace, offer_name, chain, asset_symbol)');
  });

  it('the agent runs with V8 heap limits that fit its memory limit, the same in the Deployment and the image', () => {
    const options = deployedNodeOptions();
    expect(options).toBe(imageNodeOptions());
    const { oldSpace, semiSpace } = heapLimitsMiB(options);
    expect(oldSpace).toBeGreaterThan(0);
    expect(semiSpace).toBeGreaterThan(0);
    const limit = /^(\d+)Mi$/.exec(agentContainer().resources?.limits?.memory ?? '');
    // Old space + young generation (3 semi-spaces) + ~64 MiB of code and runtime must fit the limit.
    expect(Number(limit?.[1])).toBeGreaterThanOrEqual((oldSpace ?? 0) + 3 * (semiSpace ?? 0) + 64);
  });

  it('the Dockerfile bundles with bundle.ts (as the agent bench does)', () => {
    expect(readFileSync(join(DIR, 'Dockerfile'), 'utf8')).toMatch(/^RUN npx tsx cluster-agent\/deploy\/bundle\.ts \/out\/obol-edge\.mjs$/m);
  });

  it('the Dockerfile has no default base image and runs as non-root', () => {
    const text = readFileSync(join(DIR, 'Dockerfile'), 'utf8');
    const instructions = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(instructions).toContain('ARG NODE_IMAGE');
    expect(text).not.toMatch(/^ARG NODE_IMAGE=/m);
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\}/);
    expect(instructions.indexOf('ARG NODE_IMAGE')).toBeLessThan(instructions.indexOf(froms[0] ?? ''));
    expect(instructions.filter((l) => l.startsWith('USER ')).at(-1)).toBe('USER 65532:65532');
  });
});

describe('the tunnel to the Gateway (cloudflared.yaml, gateway.yaml)', () => {
  it('the Gateway is the one the agent Deployment names in OBOL_GATEWAY, and admits routes from every namespace', () => {
    const named = agentContainer().env?.find((e) => e.name === 'OBOL_GATEWAY')?.value ?? '';
    const gateways = allDocs().filter((d) => d.kind === 'Gateway');
    expect(gateways).toHaveLength(1);
    const gateway = gateways[0];
    expect(gateway?.apiVersion).toBe('gateway.networking.k8s.io/v1');
    // parsed as the agent parses --gateway=$(OBOL_GATEWAY)
    expect({ namespace: gateway?.metadata?.namespace, name: gateway?.metadata?.name }).toEqual(parseGatewayRef(named));
    // the agent creates each HTTPRoute in its offer's namespace
    for (const listener of list(gateway, 'spec.listeners')) expect(dig(listener, 'allowedRoutes.namespaces.from')).toBe('All');
  });

  it('cloudflared sends the tunnel hostname to the Gateway Service, on the port of the Gateway listener', () => {
    const gateway = find('Gateway', 'obol-gateway');
    const listeners = list(gateway, 'spec.listeners');
    expect(listeners).toHaveLength(1);
    const listener = listeners[0];
    const hostRules = list(cloudflaredConfig(), 'ingress').filter((r) => dig(r, 'hostname') !== undefined);
    expect(hostRules).toHaveLength(1);
    expect(dig(hostRules[0], 'hostname')).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    const service = String(dig(hostRules[0], 'service'));
    // the scheme matches the listener's protocol; the port is written out, as the listener's
    const target = /^(?<scheme>https?):\/\/(?<svc>[a-z0-9-]+)\.(?<ns>[a-z0-9-]+)\.svc\.cluster\.local:(?<port>\d+)$/.exec(service)?.groups;
    expect(target, service).toBeDefined();
    expect(target?.scheme?.toUpperCase()).toBe(dig(listener, 'protocol'));
    expect(Number(target?.port)).toBe(dig(listener, 'port'));
    // every implementation names the Service after the Gateway; the committed value sits in its namespace
    expect(target?.svc).toContain(gateway.metadata?.name);
    expect(target?.ns).toBe(gateway.metadata?.namespace);
    // one value for an overlay to change
    expect(readFileSync(join(DIR, 'cloudflared.yaml'), 'utf8').split(`${String(target?.svc)}.${String(target?.ns)}.svc`).length - 1).toBe(1);
  });

  it('the last ingress rule is the catch-all, and the only one', () => {
    const rules = list(cloudflaredConfig(), 'ingress');
    const isCatchAll = (r: unknown) => dig(r, 'hostname') === undefined && dig(r, 'path') === undefined;
    expect(rules.length).toBeGreaterThan(1);
    expect(rules.map(isCatchAll)).toEqual([...rules.slice(1).map(() => false), true]);
    expect(dig(rules.at(-1), 'service')).toBe('http_status:404');
  });

  it('cloudflared reads the mounted config and credentials, without autoupdate, and is probed on its metrics port', () => {
    const config = cloudflaredConfig();
    const dep = find('Deployment', 'cloudflared');
    const c = container(dep, 'cloudflared');
    const volumes = list(dep, 'spec.template.spec.volumes');
    /** The file path where the container sees `key` of the volume that `source` (configMap/secret) names. */
    const mounted = (source: 'configMap' | 'secret', objectName: string, key: string) => {
      const volume = volumes.find((v) => dig(v, `${source}.${source === 'secret' ? 'secretName' : 'name'}`) === objectName);
      const item = (dig(volume, `${source}.items`) as Array<{ key: string; path: string }> | undefined)?.find((i) => i.key === key);
      const mount = list(c, 'volumeMounts').find((m) => dig(m, 'name') === dig(volume, 'name'));
      expect(item, `${objectName}/${key}`).toBeDefined();
      expect(dig(mount, 'readOnly')).toBe(true);
      return `${String(dig(mount, 'mountPath'))}/${String(item?.path)}`;
    };
    expect(dig(c, 'args')).toEqual(['tunnel', '--config', mounted('configMap', 'cloudflared', 'config.yaml'), 'run']);
    expect(dig(config, 'credentials-file')).toBe(mounted('secret', 'cloudflared-credentials', 'credentials.json'));
    expect(dig(config, 'tunnel')).toMatch(/\S/);
    expect(dig(config, 'no-autoupdate')).toBe(true);
    const metricsPort = Number(/^0\.0\.0\.0:(\d+)$/.exec(String(dig(config, 'metrics')))?.[1]);
    expect(metricsPort).toBe(2000);
    for (const probe of ['livenessProbe', 'readinessProbe']) expect(dig(c, `${probe}.httpGet`), probe).toEqual({ path: '/ready', port: metricsPort });
  });

  it('the cloudflared Deployment satisfies the restricted Pod Security profile, with two connectors and a pinned image', () => {
    const dep = find('Deployment', 'cloudflared');
    expect(dig(dep, 'metadata.namespace')).toBe('obol-system');
    expect(dig(dep, 'spec.replicas')).toBe(2);
    expectRestrictedDeployment(dep);
    expect(dig(dep, 'spec.template.spec.automountServiceAccountToken')).toBe(false);
    expect(dig(container(dep, 'cloudflared'), 'image')).toMatch(/^cloudflare\/cloudflared:\d{4}\.\d+\.\d+$/);
    const creds = list(dep, 'spec.template.spec.volumes').find((v) => dig(v, 'secret.secretName') === 'cloudflared-credentials');
    expect(dig(creds, 'secret.defaultMode')).toBe(0o440);
  });
});
