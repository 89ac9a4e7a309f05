import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PAID_PATH, DEV_PORTS, devStackOptions, formatDevBanner } from '../../stack/dev.js';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { discoveryConsistency } from '../support/discovery-consistency.js';
import { ROOT } from '../support/edge-bundle.js';
import { services, tokenTransfers } from './stack-support.js';

/**
 * `npm run dev`'s stack module with the options dev.ts uses (only the ports are the OS's, and the
 * state is a temp dir, so a developer's running stack and `.wrangler/state` are left alone).
 */

let stack: LocalStack;
let banner: string;
const logs: string[] = [];

beforeAll(async () => {
  const options = devStackOptions(generatePrivateKey());
  stack = await startLocalStack({
    ...options,
    ports: {},
    persistDir: undefined,
    log: (part, line) => void logs.push(`[${part}] ${line}`),
  });
  banner = formatDevBanner(stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 20_000);

function runDemoBuy(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'stack', 'buyer.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

function refusesConnections(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    async (res) => { await res.body?.cancel(); return false; },
    () => true,
  );
}

describe('npm run dev stack', () => {
  it('dev uses the documented fixed ports and demo:buy defaults to the dev edge', () => {
    expect(DEV_PORTS).toEqual({ edge: 8787, upstream: 9000, facilitator: 4021, chain: 8545, baseChain: 8546 });
    expect(devStackOptions('0x01').ports).toBe(DEV_PORTS);
  });

  it('publishes the three example offers, the draining one with its deadline', async () => {
    const list = await services(stack.edgeUrl);
    expect(list.map((s) => s.name)).toEqual(['legacy-summarize', 'weather', 'llama']);
    expect(list.find((s) => s.name === 'legacy-summarize')?.drainEndsAt).toBe('2030-01-01T01:00:00Z');
    expect(list.find((s) => s.name === 'weather')?.drainEndsAt).toBeUndefined();
  }, 10_000);

  it('the printed paid path answers 402 and the printed discovery URLs answer 200', async () => {
    const paid = /curl -i (\S+)\s+# a paid path/.exec(banner)?.[1];
    expect(paid).toBe(`${stack.edgeUrl}${DEV_PAID_PATH}?city=Berlin`);
    const res = await fetch(paid ?? '');
    expect(res.status).toBe(402);
    expect(res.headers.get('PAYMENT-REQUIRED')).toBeTruthy();
    for (const url of [`${stack.edgeUrl}/skill.md`, `${stack.edgeUrl}/api/services.json`]) {
      expect(banner).toContain(`curl ${url}`);
      expect((await fetch(url)).status).toBe(200);
    }
    expect(banner).toContain(`npm run demo:buy -- ${DEV_PAID_PATH}`);
  }, 10_000);

  it('the three discovery documents and the live 402 of every offer they list agree', async () => {
    const report = await discoveryConsistency({ publicBaseUrl: stack.edgeUrl, fetch: (url) => fetch(url) });
    expect(report.disagreements).toEqual([]);
    expect([...report.offers.values()].map((o) => o.name)).toEqual(['legacy-summarize', 'weather', 'llama']);
    // The example's path-only endpoint is listed on this edge and was called: it answers llama's 402.
    expect(report.fetched).toContain(`${stack.edgeUrl}/services/llama/v1/chat/completions`);
  }, 20_000);

  it('npm run demo:buy -- /services/weather pays and prints the response and the mined settlement transaction', async () => {
    const sellerBefore = await stack.chain.balanceOf(stack.accounts.seller.address);
    const result = await runDemoBuy([DEV_PAID_PATH, '--edge', stack.edgeUrl]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('→ 200');
    expect(result.stdout).toContain('"forecast":"sunny"');
    const tx = /settlement transaction: (0x[0-9a-f]{64})/.exec(result.stdout)?.[1];
    expect(tx).toBeDefined();
    const mined = await tokenTransfers(stack.rpcUrl, tx ?? '');
    expect(mined.transfers).toEqual([{ from: stack.accounts.buyer.address, to: stack.accounts.seller.address, value: 1000n }]);
    expect(await stack.chain.balanceOf(stack.accounts.seller.address)).toBe(sellerBefore + 1000n);
  }, 20_000);

  it('demo:buy with a malformed key exits 2 without paying', async () => {
    const sellerBefore = await stack.chain.balanceOf(stack.accounts.seller.address);
    const result = await runDemoBuy([DEV_PAID_PATH, '--edge', stack.edgeUrl, '--key', '0x1234']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('32-byte');
    expect(await stack.chain.balanceOf(stack.accounts.seller.address)).toBe(sellerBefore);
  }, 20_000);
});

describe('starting and stopping', () => {
  it('a busy fixed port fails with port_busy before anything starts', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      await expect(startLocalStack({ ...devStackOptions(generatePrivateKey()), ports: { upstream: port }, persistDir: undefined }))
        .rejects.toMatchObject({ reason: 'port_busy', port });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 10_000);

  it('a missing offers directory and a malformed catalog key are refused before anything starts', async () => {
    await expect(startLocalStack({ offersDir: join(ROOT, 'no-such-offers'), ports: {} })).rejects.toMatchObject({ reason: 'invalid_source' });
    await expect(startLocalStack({ ...devStackOptions('0xnot-a-key'), ports: {}, persistDir: undefined })).rejects.toMatchObject({ reason: 'catalog_key_invalid' });
  }, 10_000);

  it('stop() stops every part: edge, origin, facilitator and both chains refuse connections afterwards', async () => {
    const other = await startLocalStack({ ...devStackOptions(generatePrivateKey()), ports: {}, persistDir: undefined, log: () => undefined });
    const urls = [`${other.edgeUrl}/healthz`, `${other.upstreamUrl}/health`, `${other.facilitatorUrl}/supported`, other.rpcUrl, other.baseRpcUrl];
    expect((await fetch(urls[0] ?? '')).status).toBe(200);
    await other.stop();
    expect(await other.edgeExited).not.toBeUndefined();
    for (const url of urls) expect(await refusesConnections(url), url).toBe(true);
  }, 45_000);
});
