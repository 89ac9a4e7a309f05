import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from './agent.js';

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
