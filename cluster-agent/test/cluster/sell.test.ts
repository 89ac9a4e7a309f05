import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { controlPlane, testNamespace } from '../../../test/kube/fixture.js';
import type { AuditEvent } from '../../../test/kube/control-plane.js';
import { run } from '../../src/cli/commands/sell.js';
import { createKubeTarget } from '../../src/sell/kube-target.js';
import { waitFor } from '../agent/support.js';

/**
 * `obol-edge sell` against a real API server with the admin kubeconfig: what the CLI lists, what
 * its merge patches leave in the stored object, and that the CRD's schema accepts what it writes.
 * Two fresh namespaces stand in for a seller's `default` and `shop`; the clock is fixed.
 */

const NOW = Date.parse('2026-11-23T10:00:00.600Z');
const SO = { group: 'obol.org', version: 'v1alpha1', plural: 'serviceoffers' } as const;
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const { plane, skip } = controlPlane();

const home = testNamespace('sell');
const shop = testNamespace('sell-shop');
const empty = testNamespace('sell-empty');

let admin: KubeConfig;
let api: CustomObjectsApi;
/** The admin kubeconfig with `home` as its context's namespace (a file too, for the child process). */
let inHome: KubeConfig;
let tmp: string;
let inHomePath: string;

type Stored = { metadata: { resourceVersion: string; generation: number }; spec: Record<string, unknown> };

function offer(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name },
    spec: { upstream: { service: 'ollama' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } }, ...spec },
  };
}

async function sell(argv: string[], kubeConfig: KubeConfig = admin) {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => void (out += s), err: (s) => void (err += s) }, { kubeConfig, nowMs: () => NOW });
  return { code, out, err };
}

const get = async (namespace: string, name: string) => (await api.getNamespacedCustomObject({ ...SO, namespace, name })) as Stored;
const spec = async (namespace: string, name: string) => (await get(namespace, name)).spec;

/** Every write the API server logged in these namespaces so far. */
async function writes(): Promise<AuditEvent[]> {
  return (await plane!.auditEvents()).filter((e) => WRITES.has(e.verb) && e.objectRef?.resource === 'serviceoffers' && [home, shop].includes(e.objectRef.namespace ?? ''));
}

/** `sell list`'s table, split into columns. */
const rows = (out: string) => out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));

describe.skipIf(!plane)(`sell on a real API server${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    for (const namespace of [home, shop, empty]) await plane!.mustKubectl(['create', 'namespace', namespace]);
    admin = new KubeConfig();
    admin.loadFromFile(plane!.kubeconfigPath);
    api = admin.makeApiClient(CustomObjectsApi);
    const config = JSON.parse(await readFile(plane!.kubeconfigPath, 'utf8')) as { contexts: { context: Record<string, string> }[] };
    for (const context of config.contexts) context.context.namespace = home;
    tmp = await mkdtemp(join(tmpdir(), 'obol-sell-'));
    inHomePath = join(tmp, 'kubeconfig');
    await writeFile(inHomePath, JSON.stringify(config), { mode: 0o600 });
    inHome = new KubeConfig();
    inHome.loadFromFile(inHomePath);
  });

  beforeEach(async () => {
    for (const namespace of [home, shop]) await plane!.mustKubectl(['delete', 'serviceoffers', '--all', '-n', namespace, '--wait=true']);
    await api.createNamespacedCustomObject({ ...SO, namespace: home, body: offer('llama', { type: 'inference', model: { name: 'llama3' } }) });
    await api.createNamespacedCustomObject({ ...SO, namespace: shop, body: offer('tok', { payment: { network: 'base', payTo: '0x1111111111111111111111111111111111111111', price: { perMTok: '2' } }, drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' }) });
    await api.createNamespacedCustomObject({ ...SO, namespace: shop, body: offer('old', { path: '/services/legacy', drainAt: '2026-11-23T08:00:00Z', drainGracePeriod: '30m' }) });
  });

  afterAll(async () => {
    if (!plane) return;
    for (const namespace of [home, shop, empty]) await plane.kubectl(['delete', 'namespace', namespace, '--wait=false']);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe('sell list', () => {
    it('prints namespace, name, path, price and phase with the drain deadline, sorted across the cluster', async () => {
      const { code, out } = await sell(['list']);
      expect(code).toBe(0);
      const table = rows(out);
      expect(table[0]).toEqual(['NAMESPACE', 'NAME', 'PATH', 'PRICE', 'PHASE']);
      // Other test files share the cluster: the whole table is sorted, and these namespaces' rows are exactly these.
      const keys = table.slice(1).map(([namespace, name]) => `${namespace ?? ''}/${name ?? ''}`);
      expect(keys).toEqual([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(table.filter(([namespace]) => namespace === home || namespace === shop)).toEqual([
        [home, 'llama', '/services/llama', '0.001 USDC/request', 'active'],
        [shop, 'old', '/services/legacy', '0.001 USDC/request', 'drained (since 2026-11-23T08:30:00Z)'],
        [shop, 'tok', '/services/tok', '2 USDC/MTok', 'draining (ends 2026-11-23T10:30:00Z)'],
      ]);
    });

    it('-n limits the list to one namespace; an empty namespace says so', async () => {
      expect(rows((await sell(['list', '-n', shop])).out).map(([, name]) => name)).toEqual(['NAME', 'old', 'tok']);
      expect(await sell(['list', '-n', empty])).toMatchObject({ code: 0, out: 'No ServiceOffers found.\n' });
    });
  });

  describe('sell stop / resume', () => {
    it('stop sets drainAt to now (UTC, to the second) and the grace with one merge patch that keeps the rest of the spec', async () => {
      const before = (await writes()).length;
      const { code, out } = await sell(['stop', 'llama', '-n', home, '--grace', '30m']);
      expect(code).toBe(0);
      expect(out).toContain(`offer ${home}/llama draining: drainAt 2026-11-23T10:00:00Z, grace 30m`);
      const stored = await get(home, 'llama');
      expect(stored.spec).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '30m', model: { name: 'llama3' } });
      expect(stored.metadata.generation).toBe(2);
      // One PATCH (never a PUT of the whole object), on the main resource.
      const mine = await waitFor('the patch in the audit log', async () => {
        const events = (await writes()).slice(before).filter((e) => e.stage === 'ResponseComplete');
        return events.length > 0 ? events : undefined;
      });
      expect(mine.map((e) => `${e.verb} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''} ${e.objectRef?.subresource ?? ''}`)).toEqual([`patch ${home}/llama `]);
      expect(mine[0]?.responseStatus?.code).toBe(200);
      expect((await sell(['list', '-n', home])).out).toContain('draining (ends 2026-11-23T10:30:00Z)');
    });

    it('stop without --grace writes the default 1h explicitly; -n defaults to the kubeconfig context namespace', async () => {
      const result = await sell(['stop', 'llama'], inHome);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`offer ${home}/llama draining`);
      expect(await spec(home, 'llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '1h' });
    });

    it('without a namespace in the context, -n defaults to "default"', async () => {
      const result = await sell(['stop', 'llama']);
      expect(result.code).toBe(1);
      expect(result.err).toContain('no ServiceOffer default/llama in the cluster');
    });

    it('--now drains at once with grace 0s: the offer lists as drained', async () => {
      expect((await sell(['stop', 'llama', '-n', home, '--now'])).code).toBe(0);
      expect(await spec(home, 'llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' });
      expect((await sell(['list', '-n', home])).out).toContain('drained (since 2026-11-23T10:00:00Z)');
    });

    it('an offer already draining is refused and left untouched; --force restarts its drain from now', async () => {
      const before = await get(shop, 'tok');
      const refused = await sell(['stop', 'tok', '-n', shop, '--grace', '5m']);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`offer ${shop}/tok is already draining (ends 2026-11-23T10:30:00Z); use --force`);
      expect(await get(shop, 'tok')).toEqual(before);
      expect((await sell(['stop', 'tok', '-n', shop, '--grace', '5m', '--force'])).code).toBe(0);
      expect(await spec(shop, 'tok')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '5m' });
    });

    it('resume removes drainAt and drainGracePeriod; resuming an active offer changes nothing', async () => {
      expect((await sell(['resume', 'old', '-n', shop])).code).toBe(0);
      const resumed = await spec(shop, 'old');
      expect(resumed).not.toHaveProperty('drainAt');
      expect(resumed).not.toHaveProperty('drainGracePeriod');
      expect(resumed).toMatchObject({ path: '/services/legacy' });
      const version = (await get(home, 'llama')).metadata.resourceVersion;
      expect(await sell(['resume', 'llama'], inHome)).toMatchObject({ code: 0, out: `offer ${home}/llama is not draining; nothing to do\n` });
      expect((await get(home, 'llama')).metadata.resourceVersion).toBe(version);
    });

    it('a grace over 8760h is refused (exit 2) before any write: the agent would take the offer down at once, not drain it', async () => {
      const [writesBefore, before] = [(await writes()).length, await get(home, 'llama')];
      const result = await sell(['stop', 'llama', '-n', home, '--grace', '9000h']);
      expect(result.code).toBe(2);
      expect(result.err).toContain(`offer ${home}/llama not changed`);
      expect(result.err).toContain('spec.drainGracePeriod: must be at most 8760h (365 days)');
      expect(await get(home, 'llama')).toEqual(before);
      expect((await writes()).length).toBe(writesBefore);
    });

    it('an unknown offer is a clear error (exit 1) and nothing is written', async () => {
      const versions = async () => ((await api.listClusterCustomObject({ ...SO })) as { items: Stored[] }).items.map((o) => o.metadata.resourceVersion);
      const [writesBefore, versionsBefore] = [(await writes()).length, await versions()];
      const result = await sell(['stop', 'ghost', '-n', home]);
      expect(result).toMatchObject({ code: 1 });
      expect(result.err).toContain(`no ServiceOffer ${home}/ghost in the cluster`);
      expect(await versions()).toEqual(versionsBefore);
      expect((await writes()).length).toBe(writesBefore);
    });

    it('the patch is conditional on the resourceVersion it was planned from: a change in between is a conflict, not a lost update', async () => {
      const target = createKubeTarget(admin);
      const read = await target.get(home, 'llama');
      await plane!.mustKubectl(['patch', 'serviceoffer', 'llama', '-n', home, '--type=merge', '-p', '{"spec":{"drainAt":"2026-11-23T09:00:00Z","drainGracePeriod":"2h"}}']);
      await expect(target.setDrain(read, { drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '1h' })).rejects.toMatchObject({ reason: 'conflict' });
      expect(await spec(home, 'llama')).toMatchObject({ drainAt: '2026-11-23T09:00:00Z', drainGracePeriod: '2h' });
    });
  });

  describe("the CRD's schema", () => {
    it('accepts what stop and resume write, and refuses a drainAt or grace outside its patterns', async () => {
      // The server validates these fields: a value the CLI never writes is refused with 422 ...
      for (const patch of [{ drainAt: '2026-11-23 10:00:00' }, { drainAt: '2026-11-23T10:00:00' }, { drainGracePeriod: '10 minutes' }]) {
        const refused = await plane!.kubectl(['patch', 'serviceoffer', 'llama', '-n', home, '--type=merge', '-p', JSON.stringify({ spec: patch })]);
        expect(refused.code, JSON.stringify(patch)).not.toBe(0);
        expect(refused.stderr).toMatch(/Invalid value|should match/);
      }
      // ... and every form the CLI writes is stored as written.
      const forms: [string[], string][] = [[[], '1h'], [['--grace', '1h30m'], '1h30m'], [['--now'], '0s']];
      for (const [argv, grace] of forms) {
        expect((await sell(['stop', 'llama', '-n', home, '--force', ...argv])).code, argv.join(' ')).toBe(0);
        expect(await spec(home, 'llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: grace });
      }
      expect((await sell(['resume', 'llama', '-n', home])).code).toBe(0);
      expect(await spec(home, 'llama')).not.toHaveProperty('drainAt');
    });
  });

  describe('the obol-edge binary', () => {
    // Each child compiles the CLI on start: seconds on an idle machine, many more on a busy one.
    const cli = (kubeconfig: string, ...argv: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const env = { ...process.env, KUBECONFIG: kubeconfig };
        execFile(process.execPath, ['cluster-agent/bin/obol-edge.mjs', ...argv], { env, timeout: 60_000 }, (error, _stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
        });
      });

    it('sell stop and resume work in a child process through KUBECONFIG', async () => {
      const stop = await cli(plane!.kubeconfigPath, 'sell', 'stop', 'llama', '-n', home, '--now');
      expect(stop.stderr).toBe('');
      expect(stop.status).toBe(0);
      expect(await spec(home, 'llama')).toMatchObject({ drainAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/), drainGracePeriod: '0s' });
      const resume = await cli(inHomePath, 'sell', 'resume', 'llama');
      expect(resume.stderr).toBe('');
      expect(resume.status).toBe(0);
      expect(await spec(home, 'llama')).not.toHaveProperty('drainAt');
      const missing = await cli(plane!.kubeconfigPath, 'sell', 'resume', 'nope');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('no ServiceOffer default/nope');
    }, 180_000);
  });
});
