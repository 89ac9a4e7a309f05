import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseServiceOffer } from '../../../core/offer-rules.js';
import { findGo, pinnedModuleDir } from '../../../test/kube/binaries.js';
import { controlPlane, testNamespace } from '../../../test/kube/fixture.js';
import { CRD_PATH } from '../../deploy/generate-crd.js';
import { AGENT_NAMESPACE, DEPLOY_DIR, SO } from './support.js';

/**
 * The shipped manifests against a real API server: every file in deploy/ passes a server dry run,
 * the CRD's RE2-compiled patterns, defaults, status subresource and printer columns behave, and an
 * invalid ServiceOffer is refused by the API server itself (422) with a message naming the field.
 */

const { plane, skip } = controlPlane();
const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const PAYMENT = { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' } };
const PROMETHEUS_OPERATOR_PIN = join(import.meta.dirname, '..', '..', '..', 'test', 'kube', 'prometheus-operator');
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const json = (value: unknown) => JSON.stringify(value);
const docsOf = (file: string) => parseAllDocuments(readFileSync(join(DEPLOY_DIR, file), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string } });

describe.skipIf(!plane)(`shipped manifests on a real API server${skip ? ` (${skip})` : ''}`, () => {
  const cp = plane!;
  const namespace = testNamespace('manifests');
  const admin = new KubeConfig();
  let api: CustomObjectsApi;

  const offer = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace },
    spec: { type: 'inference', model: { name: 'qwen3:8b', runtime: 'ollama' }, upstream: { service: 'ollama' }, payment: PAYMENT, ...spec },
  });

  beforeAll(async () => {
    admin.loadFromFile(cp.kubeconfigPath);
    api = admin.makeApiClient(CustomObjectsApi);
    await cp.mustKubectl(['create', 'namespace', namespace]);
    // A server dry run of namespaced objects needs their namespace to exist; this is the one support.ts applies.
    await cp.mustKubectl(['apply', '--server-side', '--field-manager=obol-tests', '-f', '-'], { input: json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE } }) });
  });
  afterAll(async () => {
    await cp.kubectl(['delete', 'namespace', namespace, '--wait=false']);
  });

  describe('the ServiceOffer CRD', () => {
    it('the API server compiles every pattern with RE2: a lookahead fails CRD creation, ours is Established as shipped', async () => {
      const shipped = parse(readFileSync(CRD_PATH, 'utf8')) as { spec: { group: string; versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, { pattern?: string }> } } } } }[] } };
      const copy = structuredClone(shipped) as typeof shipped & { metadata: { name: string } };
      copy.metadata.name = 'serviceoffers.re2-probe.obol.test';
      copy.spec.group = 're2-probe.obol.test';
      // The unchanged copy under its own group is acceptable, so what follows fails for the pattern alone.
      await cp.mustKubectl(['create', '--dry-run=server', '-f', '-'], { input: json(copy) });
      const lookahead = '^(?!/services/admin)/services/.+$';
      expect(new RegExp(lookahead).test('/services/x')).toBe(true); // fine for JavaScript
      const path = copy.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.path!;
      path.pattern = lookahead;
      const refused = await cp.kubectl(['create', '-f', '-'], { input: json(copy) });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('properties[path].pattern');
      expect(refused.stderr).toContain('invalid or unsupported Perl syntax: `(?!`');
      expect((await cp.kubectl(['get', 'crd', copy.metadata.name])).stderr).toContain('NotFound');

      const served = JSON.parse((await cp.mustKubectl(['get', 'crd', 'serviceoffers.obol.org', '-o', 'json'])).stdout) as { spec: typeof shipped.spec; status: { conditions: { type: string; status: string }[] } };
      expect(served.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
      expect(served.spec.versions[0]!.schema).toEqual(shipped.spec.versions[0]!.schema);
    });

    it('kubectl get serviceoffers shows the printer columns with their values', async () => {
      await cp.mustKubectl(['apply', '-f', '-'], { input: json(offer('columns', { drainAt: '2030-01-01T00:00:00Z' })) });
      const condition = (type: string, status: string) => ({ type, status, reason: type, message: '', lastTransitionTime: '2029-12-31T00:00:00Z' });
      const status = { status: { conditions: [condition('Ready', 'True'), condition('Draining', 'True')], drainEndsAt: '2030-01-01T01:00:00Z' } };
      await cp.mustKubectl(['patch', 'serviceoffer', 'columns', '-n', namespace, '--subresource=status', '--type=merge', '-p', json(status)]);
      const [header, row] = (await cp.mustKubectl(['get', 'serviceoffers', '-n', namespace, 'columns'])).stdout.trim().split('\n');
      expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'TYPE', 'MODEL', 'PRICE', 'NETWORK', 'READY', 'DRAINING', 'DRAIN ENDS', 'AGE']);
      expect(row?.split(/\s{2,}/)).toEqual(['columns', 'inference', 'qwen3:8b', '0.001', 'base-sepolia', 'True', 'True', '2030-01-01T01:00:00Z', expect.stringMatching(/^\d+s$/)]);
    });

    it('the generated CRD applies its defaults', async () => {
      const { type: _type, model: _model, ...spec } = offer('defaults').spec;
      const made = (await api.createNamespacedCustomObject({ ...SO, namespace, body: { ...offer('defaults'), spec } })) as { spec: Record<string, unknown> };
      expect(made.spec).toEqual({ type: 'http', upstream: { service: 'ollama', port: 11434, healthPath: '/health' }, payment: { ...PAYMENT, scheme: 'exact', maxTimeoutSeconds: 300 } });
    });

    it('keeps spec.api\'s JSON Schemas and examples as written (preserve-unknown-fields) and refuses a method it does not know', async () => {
      const apiSpec = {
        method: 'GET',
        query: { schema: { type: 'object', properties: { city: { type: 'string', enum: ['Berlin', 'Lisbon'] }, days: { type: 'integer', minimum: 1 } }, required: ['city'] }, example: { city: 'Berlin' } },
        output: { example: { forecast: [{ day: 1, sky: 'sunny', rain: null }] } },
        tags: ['weather'],
      };
      const made = (await api.createNamespacedCustomObject({ ...SO, namespace, body: offer('described', { api: apiSpec }) })) as { spec: { api: unknown } };
      expect(made.spec.api).toEqual(apiSpec);
      const parsed = parseServiceOffer(made);
      expect(parsed.ok && parsed.offer.spec.api).toEqual(apiSpec);
      const refused = await cp.kubectl(['create', '-f', '-'], { input: json(offer('undescribed', { api: { ...apiSpec, method: 'TRACE' } })) });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('spec.api.method');
    });

    it('keeps spec.payment.alternatives as written (the CRD lists the field, so nothing is pruned)', async () => {
      const alternatives = [{ network: 'base' }, { network: 'eip155:10', asset: { address: '0x1111111111111111111111111111111111111111', decimals: 18, eip712Name: 'Token', eip712Version: '1' }, payTo: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' }];
      const made = (await api.createNamespacedCustomObject({ ...SO, namespace, body: offer('options', { payment: { ...PAYMENT, alternatives } }) })) as { spec: { payment: { alternatives: unknown } } };
      expect(made.spec.payment.alternatives).toEqual(alternatives);
    });

    it('status is a subresource: status writes keep spec and generation, main writes keep status', async () => {
      await api.createNamespacedCustomObject({ ...SO, namespace, body: offer('status') });
      const withStatus = (await api.patchNamespacedCustomObjectStatus({ ...SO, namespace, name: 'status', body: { status: { observedGeneration: 1 }, spec: { drainAt: '2026-01-01T00:00:00Z' } } }, merge)) as { spec: Record<string, unknown>; status: unknown; metadata: { generation: number } };
      expect(withStatus.status).toEqual({ observedGeneration: 1 });
      expect(withStatus.spec.drainAt).toBeUndefined();
      expect(withStatus.metadata.generation).toBe(1);
      const main = (await api.patchNamespacedCustomObject({ ...SO, namespace, name: 'status', body: { status: { observedGeneration: 9 }, spec: { drainGracePeriod: '5m' } } }, merge)) as { status: unknown; metadata: { generation: number } };
      expect(main.status).toEqual({ observedGeneration: 1 });
      expect(main.metadata.generation).toBe(2);
    });
  });

  describe('every file in deploy/ passes a server dry run', () => {
    /** `kubectl apply --dry-run=server`, as a seller would run it: every object reported, no warning but kubectl's own. */
    const dryRun = async (args: string[], docs: { kind: string; metadata: { name: string } }[]) => {
      const result = await cp.kubectl(['apply', '--dry-run=server', ...args]);
      expect(result.code, result.stderr).toBe(0);
      // objects the harness made by server-side apply lack client-side apply's annotation; kubectl says so
      const warnings = result.stderr.split('\n').filter((line) => line !== '' && !line.includes('missing the kubectl.kubernetes.io/last-applied-configuration annotation'));
      expect(warnings).toEqual([]);
      const reported = result.stdout.trim().split('\n').map((line) => /^([a-z]+)[.a-z0-9]*\/(\S+) (created|configured|unchanged) \(server dry run\)$/.exec(line)?.slice(1, 3).join('/') ?? line);
      expect(reported.sort()).toEqual(docs.map((d) => `${d.kind.toLowerCase()}/${d.metadata.name}`).sort());
    };

    it.each(['crd.yaml', 'rbac.yaml', 'deployment.yaml', 'gateway.yaml', 'cloudflared.yaml'])('%s', async (file) => {
      await dryRun(['-f', join(DEPLOY_DIR, file)], docsOf(file));
    });

    it('kubectl apply -k cluster-agent/deploy (the kustomization sellers apply)', async () => {
      const kustomization = parse(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
      await dryRun(['-k', DEPLOY_DIR], kustomization.resources.flatMap(docsOf));
    });

    it('monitoring.yaml, once the pinned Prometheus Operator CRDs are installed', async () => {
      const go = await findGo();
      if (!go) throw new Error('go vanished after the control plane was built with it');
      const crds = join(await pinnedModuleDir(go, PROMETHEUS_OPERATOR_PIN, 'github.com/prometheus-operator/prometheus-operator'), 'example', 'prometheus-operator-crd');
      const files = ['servicemonitors', 'prometheusrules'].map((plural) => join(crds, `monitoring.coreos.com_${plural}.yaml`));
      await cp.mustKubectl(['apply', '--server-side', '--field-manager=obol-tests', ...files.flatMap((f) => ['-f', f])]);
      await cp.mustKubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
      await dryRun(['-f', join(DEPLOY_DIR, 'monitoring.yaml')], docsOf('monitoring.yaml'));
    });
  });

  describe('an invalid ServiceOffer is refused by the API server with a message naming the field', () => {
    const payment = (patch: Record<string, unknown>) => ({ payment: { ...PAYMENT, ...patch } });
    const price = (perRequest: string) => payment({ price: { perRequest } });
    const cases: [string, Record<string, unknown>, string][] = [
      ['payTo not 0x + 40 hex', payment({ payTo: '0x1234' }), 'spec.payment.payTo'],
      ['drainGracePeriod "10 minutes"', { drainGracePeriod: '10 minutes' }, 'spec.drainGracePeriod'],
      ['drainGracePeriod ""', { drainGracePeriod: '' }, 'spec.drainGracePeriod'],
      ['a negative price', price('-1'), 'spec.payment.price.perRequest'],
      ['a price in exponent notation', price('1e3'), 'spec.payment.price.perRequest'],
      ['a hex price', price('0x10'), 'spec.payment.price.perRequest'],
      ['a price with a decimal comma', price('1,5'), 'spec.payment.price.perRequest'],
      ['a path outside /services/', { path: '/admin/x' }, 'spec.path'],
      ['a path with a ".." segment', { path: '/services/a/../admin' }, 'spec.path'],
      ['a path with "//"', { path: '/services//a' }, 'spec.path'],
      ['a path with a trailing "/"', { path: '/services/a/' }, 'spec.path'],
      ['a drainAt that is not RFC 3339', { drainAt: '2026-06-01 13:00' }, 'spec.drainAt'],
      ['an alternative whose network is neither a name nor CAIP-2', payment({ alternatives: [{ network: 'Base Mainnet' }] }), 'spec.payment.alternatives[0].network'],
      ['an alternative whose asset is not an address', payment({ alternatives: [{ network: 'base', asset: { address: '0x12' } }] }), 'spec.payment.alternatives[0].asset.address'],
    ];

    it.each(cases.map(([label, spec, field], i) => ({ label, spec, field, name: `bad-${i}` })))('$label', async ({ spec, field, name }) => {
      const manifest = offer(name, spec);
      const refusedByKubectl = await cp.kubectl(['apply', '-f', '-'], { input: json(manifest) });
      expect(refusedByKubectl.code).not.toBe(0);
      expect(refusedByKubectl.stderr).toContain(`The ServiceOffer "${name}" is invalid`);
      expect(refusedByKubectl.stderr).toContain(`${field}: Invalid value`);

      const refused = await api.createNamespacedCustomObject({ ...SO, namespace, body: manifest }).then(
        () => undefined,
        (error: { code?: number; body?: unknown }) => error,
      );
      expect(refused?.code).toBe(422);
      const status = (typeof refused?.body === 'string' ? JSON.parse(refused.body) : refused?.body) as { reason: string; message: string; details: { causes: { field: string }[] } };
      expect(status.reason).toBe('Invalid');
      expect(status.message).toContain(`${field}: Invalid value`);
      expect(status.details.causes.map((c) => c.field)).toContain(field);

      expect((await cp.kubectl(['get', 'serviceoffer', name, '-n', namespace])).stderr).toContain('NotFound');
      // The agent's own parser refuses the same field, so the server and the agent agree.
      const parsed = parseServiceOffer(manifest);
      expect(parsed.ok ? [] : parsed.problems.map((p) => p.field)).toContain(field);
    });
  });
});
