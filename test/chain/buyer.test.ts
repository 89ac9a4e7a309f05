import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBuyerFetch, readReceipt } from '../../stack/buyer.js';
import { LOCAL_ACCOUNTS, startChain, TOKEN_ADDRESS, type LocalChain } from '../../stack/chain.js';
import { startFacilitator, type LocalFacilitator } from '../../stack/facilitator.js';

const { buyer, seller, facilitator: settler } = LOCAL_ACCOUNTS;
const PRICE = '3000';
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

let chain: LocalChain;
let facilitator: LocalFacilitator;
let shop: Server;
let shopUrl: string;
const paidWith: string[] = [];

/** A minimal x402 seller: both challenges from one deal, verify + settle at the facilitator. */
function startShop(): Promise<void> {
  shop = createServer((req, res) => void serve(req).then(({ status, headers, body }) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }));
  return new Promise((resolve) => shop.listen(0, '127.0.0.1', () => {
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    resolve();
  }));
}

function deal(version: 1 | 2) {
  const common = { scheme: 'exact', payTo: seller.address, maxTimeoutSeconds: 120, asset: TOKEN_ADDRESS, extra: { name: 'USDC', version: '2' } };
  return version === 2
    ? { ...common, network: 'eip155:84532', amount: PRICE }
    : { ...common, network: 'base-sepolia', maxAmountRequired: PRICE, resource: `${shopUrl}/services/demo`, description: 'demo', mimeType: 'application/json' };
}

async function serve(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const v2 = req.headers['payment-signature'];
  const v1 = req.headers['x-payment'];
  const header = typeof v2 === 'string' ? v2 : typeof v1 === 'string' ? v1 : undefined;
  if (!header) {
    const resource = { url: `${shopUrl}${req.url ?? '/'}`, description: 'demo', mimeType: 'application/json' };
    return {
      status: 402,
      headers: { 'PAYMENT-REQUIRED': b64({ x402Version: 2, error: 'payment_required', resource, accepts: [deal(2)] }) },
      body: { x402Version: 1, error: 'payment_required', accepts: [deal(1)] },
    };
  }
  const version = typeof v2 === 'string' ? 2 : 1;
  paidWith.push(version === 2 ? 'PAYMENT-SIGNATURE' : 'X-PAYMENT');
  const request = JSON.stringify({ x402Version: version, paymentPayload: JSON.parse(Buffer.from(header, 'base64').toString('utf8')), paymentRequirements: deal(version) });
  const call = async (path: string) => (await fetch(`${facilitator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })).json() as Promise<Record<string, unknown>>;
  const verdict = await call('/verify');
  if (verdict.isValid !== true) return { status: 402, headers: {}, body: { x402Version: 1, error: verdict.invalidReason, accepts: [deal(1)] } };
  const settled = await call('/settle');
  const receiptHeader = version === 2 ? 'PAYMENT-RESPONSE' : 'X-PAYMENT-RESPONSE';
  return { status: settled.success === true ? 200 : 402, headers: { [receiptHeader]: b64(settled) }, body: { answer: 42 } };
}

beforeAll(async () => {
  chain = await startChain();
  facilitator = await startFacilitator({ rpcUrl: chain.rpcUrl, privateKey: settler.privateKey, log: () => {} });
  await startShop();
});

afterAll(async () => {
  await new Promise((resolve) => shop?.close(resolve));
  await facilitator?.stop();
  await chain?.stop();
});

async function balances(): Promise<[bigint, bigint]> {
  return [await chain.balanceOf(buyer.address), await chain.balanceOf(seller.address)];
}

describe('demo buyer (official @x402/fetch + @x402/evm client)', () => {
  it('v2: answers PAYMENT-REQUIRED with PAYMENT-SIGNATURE and reads the PAYMENT-RESPONSE receipt', async () => {
    const [buyerBefore, sellerBefore] = await balances();
    const response = await makeBuyerFetch({ privateKey: buyer.privateKey, version: 2 })(`${shopUrl}/services/demo/ask`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: 42 });
    const receipt = readReceipt(response);
    expect(receipt).toMatchObject({ header: 'PAYMENT-RESPONSE', success: true, network: 'eip155:84532', payer: buyer.address });
    expect(receipt?.transaction).toBe(facilitator.stats.transactions.at(-1));
    expect(paidWith.at(-1)).toBe('PAYMENT-SIGNATURE');
    expect(await balances()).toEqual([buyerBefore - 3000n, sellerBefore + 3000n]);
  });

  it('v1: ignores the header, pays the body challenge with X-PAYMENT and reads X-PAYMENT-RESPONSE', async () => {
    const [buyerBefore, sellerBefore] = await balances();
    const response = await makeBuyerFetch({ privateKey: buyer.privateKey, version: 1 })(`${shopUrl}/services/demo/ask`);
    expect(response.status).toBe(200);
    expect(readReceipt(response)).toMatchObject({ header: 'X-PAYMENT-RESPONSE', success: true, network: 'base-sepolia' });
    expect(paidWith.at(-1)).toBe('X-PAYMENT');
    expect(await balances()).toEqual([buyerBefore - 3000n, sellerBefore + 3000n]);
  });

  it('an unfunded buyer gets the 402 back with the facilitator reason and moves nothing', async () => {
    const settledBefore = facilitator.stats.settleRequests;
    const [buyerBefore, sellerBefore] = await balances();
    const response = await makeBuyerFetch({ privateKey: generatePrivateKey(), version: 1 })(`${shopUrl}/services/demo`);
    expect(response.status).toBe(402);
    expect(await response.json()).toMatchObject({ error: 'invalid_exact_evm_insufficient_balance' });
    expect(readReceipt(response)).toBeUndefined();
    expect(facilitator.stats.settleRequests).toBe(settledBefore);
    expect(await balances()).toEqual([buyerBefore, sellerBefore]);
  });

  it('npm run demo:buy prints the status, the body, the receipt and the settlement transaction', async () => {
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const run = promisify(execFile);
    const settlesBefore = facilitator.stats.settleRequests;
    const [paid, misused] = await Promise.allSettled([
      run(tsx, ['stack/buyer.ts', '/services/demo/cli', '--edge', shopUrl], { timeout: 20_000 }),
      run(tsx, ['stack/buyer.ts', 'no-leading-slash', '--edge', shopUrl], { timeout: 20_000 }),
    ]);
    expect(paid.status).toBe('fulfilled');
    const stdout = paid.status === 'fulfilled' ? paid.value.stdout : '';
    expect(stdout).toMatch(/→ 200 OK/);
    expect(stdout).toContain('body: {"answer":42}');
    expect(stdout).toContain('"header":"PAYMENT-RESPONSE"');
    expect(stdout).toContain(`settlement transaction: ${facilitator.stats.transactions.at(-1)}`);
    // A path without a leading slash is refused with usage text and exit code 2, paying nothing.
    expect(misused).toMatchObject({ status: 'rejected', reason: { code: 2, stderr: expect.stringMatching(/^usage: npm run demo:buy/) } });
    expect(facilitator.stats.settleRequests).toBe(settlesBefore + 1);
  });
});
