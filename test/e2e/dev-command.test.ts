import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../support/edge-bundle.js';
import { until } from './stack-support.js';

/**
 * The real `npm run dev` command (`node --import tsx stack/dev.ts`), with `--free-ports` and a temp `--dev-vars`
 * so it never collides with a developer's stack or touches their `.dev.vars`. Ctrl-C is a SIGINT
 * to the command's whole process group, as a terminal sends it. (Under the `tsx` CLI wrapper a
 * busy machine made tsx SIGKILL the stack mid-cleanup after 30 ms and leave anvil behind, hence
 * `node --import tsx` in package.json.)
 */

const dir = mkdtempSync(join(tmpdir(), 'obol-dev-cmd-'));
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) if (child.exitCode === null && child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
});

function startDev(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | string | null> } {
  // `npm run dev -- …` exactly as a developer types it, in a process group of its own (npm, sh, node).
  const child = spawn('npm', ['run', '--silent', 'dev', '--', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // npm re-raises a Ctrl-C on itself after its script exits: the exit is then the signal's name.
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return { child, output: () => text, exited };
}

const refuses = (url: string) => fetch(url, { signal: AbortSignal.timeout(1_000) }).then(async (r) => { await r.body?.cancel(); return false; }, () => true);

it('npm run dev prints a paid path that answers 402, and Ctrl-C stops every part', async () => {
  const devVars = join(dir, 'dev.vars');
  const dev = startDev(['--free-ports', '--dev-vars', devVars]);
  await until('the ready banner', async () => dev.output().includes('Stop with Ctrl-C.') || dev.child.exitCode !== null, 45_000, 200);
  const out = dev.output();
  expect(out, out.slice(-2000)).toContain('Stop with Ctrl-C.');
  // .dev.vars was created where asked, private to the user, with a key.
  expect(statSync(devVars).mode & 0o777).toBe(0o600);
  expect(readFileSync(devVars, 'utf8')).toMatch(/^OBOL_CATALOG_KEY=0x[0-9a-f]{64}$/m);
  const paid = /curl -i (\S+)\s+# a paid path/.exec(out)?.[1] ?? '';
  const res = await fetch(paid);
  expect(res.status).toBe(402);
  expect(JSON.parse(Buffer.from(res.headers.get('PAYMENT-REQUIRED') ?? '', 'base64').toString('utf8'))).toMatchObject({ x402Version: 2 });
  const parts = /edge (\S+) · origin (\S+) · facilitator (\S+) · chain (\S+)/.exec(out);
  const urls = [`${parts?.[1]}/healthz`, `${parts?.[2]}/health`, `${parts?.[3]}/supported`, parts?.[4] ?? ''];

  process.kill(-(dev.child.pid ?? 0), 'SIGINT');
  const code = await Promise.race([dev.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
  expect(['SIGINT', 0]).toContain(code);
  expect(dev.output()).toContain('"msg":"stopping"');
  expect(dev.output()).not.toContain('could not stop');
  for (const url of urls) expect(await refuses(url), url).toBe(true);
}, 60_000);

it('npm run dev with an unknown flag exits 1 with a clear message and starts nothing', async () => {
  const dev = startDev(['--no-such-flag', '--dev-vars', join(dir, 'unused.vars')]);
  const code = await Promise.race([dev.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 20_000))]);
  expect(code).toBe(1);
  expect(dev.output()).toMatch(/npm run dev: .*no-such-flag/);
  expect(() => statSync(join(dir, 'unused.vars'))).toThrow();
}, 25_000);
