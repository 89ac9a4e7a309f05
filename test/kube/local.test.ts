import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/edge-bundle.js';
import { attachControlPlane } from './control-plane.js';
import { controlPlane } from './fixture.js';

/** `npm run kube:local`: prints a working admin kubeconfig, and SIGTERM stops every process and removes its state. */

const { plane, skip } = controlPlane();

describe.skipIf(!plane)(`npm run kube:local${skip ? ` (${skip})` : ''}`, () => {
  it('serves a cluster through the printed kubeconfig, then stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'kube', 'local.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    while (!/kubeconfig\s+(\S+)/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const kubeconfig = /kubeconfig\s+(\S+)/.exec(out)?.[1];
    const state = /state\s+(\S+)/.exec(out)?.[1];
    expect(kubeconfig, out).toBeDefined();
    // The printed kubeconfig reaches this control plane, whose CRDs are installed.
    const local = attachControlPlane({ ...plane!, kubeconfigPath: kubeconfig! });
    expect((await local.mustKubectl(['get', 'crd', 'serviceoffers.obol.org', '-o', 'name'])).stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/serviceoffers.obol.org');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGTERM: stopping');
    expect(existsSync(state!)).toBe(false);
    expect((await local.kubectl(['get', 'namespaces', '--request-timeout=2s'])).code).not.toBe(0);
  }, 120_000);
});
