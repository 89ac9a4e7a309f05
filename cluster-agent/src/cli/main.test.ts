import { spawn } from 'node:child_process';
import { closeServer } from '../../../test/support/http-server.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, TEST_PUBLIC_BASE_URL, type TestEdge } from '../../../test/support/edge.js';
import { signerVars, TEST_KEYS } from '../../../test/support/snapshots.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'cluster-agent', 'bin', 'obol-edge.mjs');

interface Run { code: number | null; stdout: string; stderr: string }

/** Run the real bin shim in a child node process, from a different working directory. */
function obolEdge(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmpdir(), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

let edge: TestEdge;
let upstream: Server;
let dir: string;
const NO_KEY = { OBOL_CATALOG_KEY: undefined };

beforeAll(async () => {
  upstream = createServer((_req, res) => void res.writeHead(200).end('ok'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'obol-cli-'));
  writeFileSync(join(dir, 'weather.yaml'), `apiVersion: obol.org/v1alpha1
kind: ServiceOffer
metadata: { name: weather, namespace: apis, annotations: { obol.org/upstream-url: "${url}" } }
spec:
  upstream: { service: weather }
  payment: { network: base-sepolia, payTo: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", price: { perRequest: "0.001" } }
`);
  edge = await startEdge({ vars: signerVars(TEST_KEYS.signer) });
});
afterAll(async () => {
  await edge.dispose();
  await closeServer(upstream);
  rmSync(dir, { recursive: true, force: true });
});

describe('obol-edge command line', () => {
  it('--help lists the commands and exits 0; no command or an unknown one is a usage error (exit 2)', async () => {
    const [help, none, unknown] = await Promise.all([obolEdge(['--help']), obolEdge([]), obolEdge(['frobnicate'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: obol-edge <command>/);
    for (const name of ['publish', 'agent', 'sell']) expect(help.stdout).toContain(`  ${name}`);
    expect(none).toMatchObject({ code: 2, stderr: expect.stringContaining('no command given') });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
  });

  it('publish --help exits 0; a missing --edge or an unknown option exits 2 with the usage', async () => {
    const [help, missing, bad] = await Promise.all([
      obolEdge(['publish', '--help']),
      obolEdge(['publish', '--offers', dir]),
      obolEdge(['publish', '--offers', dir, '--edge', edge.url, '--bogus']),
    ]);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--assume-healthy') });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--edge <url> is required') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'/);
  });

  it('publish without OBOL_CATALOG_KEY fails with a clear error and pushes nothing', async () => {
    const run = await obolEdge(['publish', '--offers', dir, '--edge', edge.url], NO_KEY);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('OBOL_CATALOG_KEY is not set');
    expect(run.stderr).toContain('[catalog_key_missing]');
    expect(await (await edge.fetch('/_obol/v1/catalog/status')).json()).toMatchObject({ sequence: 0 });
  });

  it('publish signs and pushes, printing the accepted sequence the edge now reports', async () => {
    const run = await obolEdge(['publish', '--offers', dir, '--edge', edge.url], { OBOL_CATALOG_KEY: TEST_KEYS.signer });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/published\s+apis\/weather \/services\/weather 0\.001 USDC\/request/);
    expect(run.stdout).toContain(`for audience ${TEST_PUBLIC_BASE_URL}`);
    const sequence = Number(/accepted sequence (\d+)/.exec(run.stdout)?.[1]);
    const status = (await (await edge.fetch('/_obol/v1/catalog/status')).json()) as { sequence: number };
    expect(status.sequence).toBe(sequence);
    expect(run.stdout + run.stderr).not.toContain(TEST_KEYS.signer.slice(2));
  });

  it("publish with a key the edge does not trust prints the edge's error and exits 1", async () => {
    const run = await obolEdge(['publish', '--offers', dir, '--edge', edge.url, '--json'], { OBOL_CATALOG_KEY: TEST_KEYS.stranger });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/edge refused the snapshot \(HTTP 401\): unknown_signer/);
  });
});
