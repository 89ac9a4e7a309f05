import { execFile } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../../test/fake-apiserver/server.js';
import { run } from './sell.js';

const NOW = Date.parse('2026-11-23T10:00:00.600Z');
let fake: FakeApiServer;

function offer(name: string, namespace: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace },
    spec: { upstream: { service: 'ollama' }, payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.001' } }, ...spec },
  };
}

async function sell(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => void (out += s), err: (s) => void (err += s) }, { kubeConfig: fake.kubeConfig, nowMs: () => NOW });
  return { code, out, err };
}

const spec = (name: string, namespace = 'default') => fake.store.get('serviceoffers', namespace, name)?.spec as Record<string, unknown> | undefined;
const rv = (name: string) => (fake.store.get('serviceoffers', 'default', name)?.metadata as { resourceVersion: string }).resourceVersion;

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', 'shop'] });
  fake.store.put('serviceoffers', offer('llama', 'default', { type: 'inference', model: { name: 'llama3' } }));
  fake.store.put('serviceoffers', offer('tok', 'shop', { payment: { network: 'base', payTo: '0x1111111111111111111111111111111111111111', price: { perMTok: '2' } }, drainAt: '2026-11-23T09:30:00Z', drainGracePeriod: '1h' }));
  fake.store.put('serviceoffers', offer('old', 'shop', { path: '/services/legacy', drainAt: '2026-11-23T08:00:00Z', drainGracePeriod: '30m' }));
});
afterEach(async () => fake.stop());

describe('sell list (cluster)', () => {
  it('prints namespace, name, path, price and phase with the drain deadline, sorted', async () => {
    const { code, out } = await sell('list');
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(lines).toEqual([
      ['NAMESPACE', 'NAME', 'PATH', 'PRICE', 'PHASE'],
      ['default', 'llama', '/services/llama', '0.001 USDC/request', 'active'],
      ['shop', 'old', '/services/legacy', '0.001 USDC/request', 'drained (since 2026-11-23T08:30:00Z)'],
      ['shop', 'tok', '/services/tok', '2 USDC/MTok', 'draining (ends 2026-11-23T10:30:00Z)'],
    ]);
  });

  it('-n limits the list to one namespace; an empty namespace says so', async () => {
    expect((await sell('list', '-n', 'default')).out.trimEnd().split('\n')).toHaveLength(2);
    expect(await sell('list', '-n', 'kube-system')).toMatchObject({ code: 0, out: 'No ServiceOffers found.\n' });
  });
});

describe('sell stop / resume (cluster)', () => {
  it('stop sets drainAt to now (UTC, to the second) and the grace, with a merge patch', async () => {
    const { code, out } = await sell('stop', 'llama', '-n', 'default', '--grace', '30m');
    expect(code).toBe(0);
    expect(out).toContain('offer default/llama draining: drainAt 2026-11-23T10:00:00Z, grace 30m');
    expect(spec('llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '30m', model: { name: 'llama3' } });
    const patch = fake.requests.find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({ path: '/apis/obol.org/v1alpha1/namespaces/default/serviceoffers/llama', contentType: 'application/merge-patch+json' });
    expect((await sell('list', '-n', 'default')).out).toContain('draining (ends 2026-11-23T10:30:00Z)');
  });

  it('stop without --grace writes the default 1h explicitly; -n defaults to the context namespace', async () => {
    expect((await sell('stop', 'llama')).code).toBe(0);
    expect(spec('llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '1h' });
  });

  it('--now drains at once with grace 0s: the offer lists as drained', async () => {
    expect((await sell('stop', 'llama', '--now')).code).toBe(0);
    expect(spec('llama')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '0s' });
    expect((await sell('list', '-n', 'default')).out).toContain('drained (since 2026-11-23T10:00:00Z)');
  });

  it('an offer already draining is refused and left untouched; --force restarts its drain from now', async () => {
    const before = fake.store.get('serviceoffers', 'shop', 'tok');
    const refused = await sell('stop', 'tok', '-n', 'shop', '--grace', '5m');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('offer shop/tok is already draining (ends 2026-11-23T10:30:00Z); use --force');
    expect(fake.store.get('serviceoffers', 'shop', 'tok')).toEqual(before);
    expect((await sell('stop', 'tok', '-n', 'shop', '--grace', '5m', '--force')).code).toBe(0);
    expect(spec('tok', 'shop')).toMatchObject({ drainAt: '2026-11-23T10:00:00Z', drainGracePeriod: '5m' });
  });

  it('resume removes drainAt and drainGracePeriod; resuming an active offer changes nothing', async () => {
    expect((await sell('resume', 'old', '-n', 'shop')).code).toBe(0);
    const resumed = spec('old', 'shop');
    expect(resumed).not.toHaveProperty('drainAt');
    expect(resumed).not.toHaveProperty('drainGracePeriod');
    expect(resumed).toMatchObject({ path: '/services/legacy' });
    const version = rv('llama');
    expect(await sell('resume', 'llama')).toMatchObject({ code: 0, out: 'offer default/llama is not draining; nothing to do\n' });
    expect(rv('llama')).toBe(version);
  });

  it('an unknown offer is a clear error (exit 1) and nothing is written', async () => {
    const result = await sell('stop', 'ghost', '-n', 'default');
    expect(result).toMatchObject({ code: 1 });
    expect(result.err).toContain('no ServiceOffer default/ghost in the cluster');
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a bad --grace is a usage error (exit 2) before the cluster is contacted', async () => {
    const result = await sell('stop', 'llama', '--grace', '10 minutes');
    expect(result.code).toBe(2);
    expect(result.err).toContain('--grace: "10 minutes" is not a duration like "30m", "1h30m" or "0s"');
    expect(fake.requests).toEqual([]);
  });

  it('usage errors: unknown command, missing name, --now with --grace, --force on resume', async () => {
    for (const argv of [['drain', 'x'], ['stop'], ['stop', 'llama', '--now', '--grace', '5m'], ['resume', 'llama', '--force'], ['list', 'extra'], ['stop', 'llama', '--source', 'ftp:x']]) {
      const result = await sell(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toContain('Usage:');
    }
    expect(spec('llama')).not.toHaveProperty('drainAt');
  });

  it('an API server failure is reported with its status and exits 1', async () => {
    fake.faults.failNextRequests(1);
    const result = await sell('list');
    expect(result.code).toBe(1);
    expect(result.err).toContain('the API server answered 500');
  });
});

describe('the obol-edge binary', () => {
  // Async child: the fake API server lives in this process, so its event loop must keep running.
  const cli = (...argv: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const env = { ...process.env, KUBECONFIG: fake.kubeconfigPath };
      execFile(process.execPath, ['cluster-agent/bin/obol-edge.mjs', ...argv], { env, timeout: 20_000 }, (error, _stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
      });
    });

  it('sell stop and resume work in a child process through KUBECONFIG', async () => {
    const stop = await cli('sell', 'stop', 'llama', '-n', 'default', '--now');
    expect(stop.stderr).toBe('');
    expect(stop.status).toBe(0);
    expect(spec('llama')).toMatchObject({ drainGracePeriod: '0s' });
    const missing = await cli('sell', 'resume', 'nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no ServiceOffer default/nope');
  });
});
