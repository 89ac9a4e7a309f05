import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LEASE } from '../../agent/config.js';
import { agentConfigFromArgs, AGENT_USAGE, run } from './agent.js';

const KEY = `0x${'11'.repeat(32)}`;
let stderr: string[];
let dir: string;

beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  dir = mkdtempSync(join(tmpdir(), 'obol-agent-cli-'));
  process.env.OBOL_CATALOG_KEY = KEY;
});

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.OBOL_CATALOG_KEY;
  rmSync(dir, { recursive: true, force: true });
});

describe('obol-edge agent startup errors', () => {
  it('refuses to start without --edge', async () => {
    expect(await run([`--source`, `dir:${dir}`])).toBe(2);
    expect(stderr.join('')).toContain('--edge <url> is required');
  });

  it('refuses a source that is neither kube nor dir:<path>', async () => {
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', 'git:somewhere'])).toBe(2);
    expect(stderr.join('')).toContain('--source must be "kube" or "dir:<path>"');
  });

  it('refuses a dir: source that is not a directory', async () => {
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', `dir:${join(dir, 'missing')}`])).toBe(2);
    expect(stderr.join('')).toContain('not a readable directory');
  });

  it('refuses to start without a signing key, naming OBOL_CATALOG_KEY and --key-file, never echoing a key', async () => {
    delete process.env.OBOL_CATALOG_KEY;
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', `dir:${dir}`])).toBe(1);
    expect(stderr.join('')).toMatch(/OBOL_CATALOG_KEY is not set.*--key-file/);
    process.env.OBOL_CATALOG_KEY = 'not-a-key-secret-ish';
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', `dir:${dir}`])).toBe(1);
    expect(stderr.join('')).not.toContain('not-a-key-secret-ish');
  });

  it('requires --gateway for the kube source unless route management is off', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    vi.stubEnv('KUBECONFIG', kubeconfig);
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', 'kube'])).toBe(2);
    expect(stderr.join('')).toContain('--gateway <namespace>/<name> is required');
    vi.unstubAllEnvs();
  });

  it('rejects bad durations and unknown flags with a usage error', async () => {
    expect(await run(['--edge', 'http://127.0.0.1:9', '--source', `dir:${dir}`, '--heartbeat', 'soon'])).toBe(2);
    expect(stderr.join('')).toContain('--heartbeat must be a positive duration');
    expect(await run(['--edge', 'http://127.0.0.1:9', '--bogus'])).toBe(2);
  });
});

describe('obol-edge agent lease timings', () => {
  const KUBE = ['--edge', 'http://127.0.0.1:9', '--source', 'kube', '--gateway', 'obol-system/obol-gateway', '--ops-addr', 'off'];
  beforeEach(() => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    vi.stubEnv('KUBECONFIG', kubeconfig);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const config = (flags: Record<string, string>) => agentConfigFromArgs({ edge: 'http://127.0.0.1:9', source: 'kube', gateway: 'obol-system/obol-gateway', 'ops-addr': 'off', ...flags }, process.env, () => undefined);

  it('--lease-duration, --renew-deadline and --retry-period set the Lease timings, sub-second ones in ms', async () => {
    const { leaderElection } = await config({ 'lease-duration': '3s', 'renew-deadline': '2s', 'retry-period': '500ms', 'lease-name': 'test-lease' });
    expect(leaderElection).toMatchObject({ name: 'test-lease', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 });
  });

  it('defaults to a 15 s lease, a 10 s renew deadline and a 2 s retry period', async () => {
    const { leaderElection } = await config({});
    expect(leaderElection).toMatchObject({ leaseDurationMs: DEFAULT_LEASE.leaseDurationMs, renewDeadlineMs: DEFAULT_LEASE.renewDeadlineMs, retryPeriodMs: DEFAULT_LEASE.retryPeriodMs });
    expect(leaderElection).toMatchObject({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });

  it('rejects a renew deadline not below the lease duration, and a retry period not below the renew deadline', async () => {
    expect(await run([...KUBE, '--lease-duration', '3s', '--renew-deadline', '3s'])).toBe(2);
    expect(stderr.join('')).toContain('--renew-deadline (3000 ms) must be less than --lease-duration (3000 ms)');
    // only the renew deadline given: checked against the default lease duration
    expect(await run([...KUBE, '--renew-deadline', '20s'])).toBe(2);
    expect(stderr.join('')).toContain('--renew-deadline (20000 ms) must be less than --lease-duration (15000 ms)');
    expect(await run([...KUBE, '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '2s'])).toBe(2);
    expect(stderr.join('')).toContain('--retry-period (2000 ms) must be less than --renew-deadline (2000 ms)');
  });

  it('rejects lease timings that are not positive durations, naming the flag', async () => {
    for (const [flag, value] of [['--lease-duration', 'soon'], ['--renew-deadline', '0s'], ['--retry-period', '-1s'], ['--retry-period', '1.5s'], ['--lease-duration', '0ms']] as const) {
      stderr = [];
      expect(await run([...KUBE, `${flag}=${value}`])).toBe(2);
      expect(stderr.join('')).toContain(`${flag} must be a positive duration like "30s", "10m" or "500ms", got "${value}"`);
    }
  });

  it('--help lists the lease timing flags with their defaults', () => {
    expect(AGENT_USAGE).toMatch(/--lease-duration <dur> .*\(default 15s\)/);
    expect(AGENT_USAGE).toMatch(/--renew-deadline <dur> .*\(default 10s;/);
    expect(AGENT_USAGE).toMatch(/--retry-period <dur> .*\(default 2s;/);
  });
});
