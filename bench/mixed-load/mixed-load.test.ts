import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../test/support/edge-bundle.js';
import { runTraffic } from './traffic.js';

const dir = mkdtempSync(join(tmpdir(), 'obol-mixed-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function benchLoad(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'mixed-load.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
}

describe('npm run bench:load', () => {
  it('drives every kind against the real stack, refuses every replay and balances the money exactly', () => {
    const out = join(dir, 'results.json');
    const run = benchLoad(['--rate', '60', '--duration', '2', '--out', out]);
    expect(run.stderr).not.toContain('bench:load failed');
    expect(run.status).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as {
      traffic: { paid2xx: number; replay2xx: number; receiptTransactions: number; kinds: Record<string, { requests: number; statuses: Record<string, number>; errors: number }> };
      facilitator: { settleSucceeded: number };
      chain: { transfers: number; authorizationsUsed: number; balanceDelta: string };
      edgeChargedRequests: number;
      reconciliation: { balanced: boolean; line: string };
    };
    const { kinds } = results.traffic;
    // 120 scheduled at 40/30/10/10/10 % plus the seed paid request.
    expect(kinds.discovery).toMatchObject({ requests: 48, statuses: { 200: 48 }, errors: 0 });
    expect(kinds.unpaid).toMatchObject({ requests: 36, statuses: { 402: 36 }, errors: 0 });
    expect(kinds.paid).toMatchObject({ requests: 13, statuses: { 200: 13 }, errors: 0 });
    expect(kinds.replay).toMatchObject({ requests: 12, statuses: { 402: 12 }, errors: 0 });
    expect(kinds.garbage).toMatchObject({ requests: 12, statuses: { 400: 12 }, errors: 0 });
    expect(kinds.paid).toMatchObject({ timeouts: 0 });
    expect(results.traffic.paid2xx).toBe(13);
    expect(results.traffic.replay2xx).toBe(0);
    expect(results.traffic.receiptTransactions).toBe(13);
    expect(results.facilitator.settleSucceeded).toBe(13);
    expect(results.chain).toMatchObject({ transfers: 13, authorizationsUsed: 13, balanceDelta: '13000' });
    expect(results.edgeChargedRequests).toBe(13);
    expect(results.reconciliation.balanced).toBe(true);
    expect(run.stdout).toContain('2xx paid responses = settlements = on-chain transfers: 13 = 13 = 13 (balanced)');
  });

  it('refuses bad flags with exit 2 and a clear message, starting nothing and writing nothing', () => {
    const out = join(dir, 'never.json');
    const started = performance.now();
    const run = benchLoad(['--rate', '400', '--mix', 'paid=50,unpaid=50', '--out', out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('200 paid req/s exceeds --max-paid-per-sec 25');
    expect(run.stderr).toContain('[invalid_load_options]');
    expect(existsSync(out)).toBe(false);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('traffic generator', () => {
  it('refuses a target that is not loopback before sending anything', async () => {
    await expect(runTraffic({
      edgeUrl: 'http://10.1.2.3:8787', paidPath: '/services/x', discoveryPaths: ['/skill.md'], rate: 10, durationSec: 1,
      mix: { discovery: 100, unpaid: 0, paid: 0, replay: 0, garbage: 0 }, paymentRequired: { x402Version: 2, accepts: [{}] }, payerKeys: [`0x${'1'.repeat(64)}`],
    })).rejects.toThrow(/loopback only/);
  });
});
