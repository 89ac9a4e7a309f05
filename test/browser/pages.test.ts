import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { getAddress } from 'viem';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatAtomicAmount } from '../../core/token-amount.js';
import { chromiumMissing, consoleErrors, installTestWallet, launchChromium } from '../support/browser.js';
import { ROOT } from '../support/edge-bundle.js';
import { decodeChallengeHeader, startGateFixture, type GateFixture } from '../support/gate.js';
import { BUYER } from '../support/payments.js';
import { sampleOffer, TEST_PAY_TO } from '../support/snapshots.js';

/**
 * The pages for people in a real headless browser (Debian chromium via playwright-core) against
 * the real edge in workerd: the HTML 402 and the catalog page at `/` render without console errors
 * and show what the machine documents say; the page pays from a (test) EIP-1193 wallet.
 * Screenshots go to dist/screenshots, or to SCREENSHOTS_DIR (`SCREENSHOTS_DIR=docs` refreshes the docs').
 */
const SCREENSHOTS = resolve(ROOT, process.env['SCREENSHOTS_DIR'] ?? join('dist', 'screenshots'));
const missing = chromiumMissing();
if (missing) console.warn(`Browser tests skipped: ${missing}`);

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

describe.skipIf(missing !== undefined)('pages for people in Debian chromium', () => {
  let f: GateFixture;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // Beside the gate fixture's offers, one priced per MTok: the pages state its per-request charge.
    const chat = sampleOffer({
      name: 'qwen-chat',
      spec: { payment: { network: 'base-sepolia', payTo: TEST_PAY_TO, price: { perMTok: '2' } }, registration: { enabled: true, description: 'Qwen3 0.6B chat completions, OpenAI-compatible' } },
    });
    [f, browser] = await Promise.all([startGateFixture({}, [chat]), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await f?.dispose();
  });
  beforeEach(async () => {
    f.reset();
    page = await browser.newPage({ viewport: { width: 960, height: 900 } });
    errors = consoleErrors(page);
  });

  it('shows the 402 as a page with the amount, network, asset and payTo the PAYMENT-REQUIRED header carries', async () => {
    const response = await page.goto(`${f.edge.url}/services/echo/v1/chat`);
    expect(response?.status()).toBe(402);
    const header = response?.headers()['payment-required'];
    expect(header).toBeDefined();
    const challenge = decodeChallengeHeader(new Response(null, { headers: { 'PAYMENT-REQUIRED': header ?? '' } }));
    const accepted = challenge.accepts[0] ?? {};
    expect(await text(page, '[data-field="atomic"]')).toBe(accepted['amount']);
    expect(await text(page, '[data-field="amount"]')).toBe(formatAtomicAmount({ amount: String(accepted['amount']), decimals: 6 }));
    expect(await text(page, '[data-field="network"]')).toBe(accepted['network']);
    expect(await text(page, '[data-field="asset"]')).toBe(accepted['asset']);
    expect(await text(page, '[data-field="payTo"]')).toBe(accepted['payTo']);
    expect(await text(page, '[data-field="resource"]')).toBe(challenge.resource.url);
    const main = await text(page, 'main');
    expect(main).toContain('0.001 USDC');
    expect(main).toContain('Base Sepolia');
    expect(await text(page, '#pay-status')).toMatch(/^No browser wallet found/);
    await page.screenshot({ path: join(SCREENSHOTS, 'paywall.png'), fullPage: true });
    expect(errors).toEqual([]);
    f.expectUntouched();
  });

  it('pays from a browser wallet: signs the EIP-3009 authorization, repeats the request with PAYMENT-SIGNATURE, shows the answer', async () => {
    await installTestWallet(page, BUYER, 1);
    await page.goto(`${f.edge.url}/services/echo/v1/chat`);
    await page.getByRole('button', { name: /^Pay 0\.001 USDC on Base Sepolia/ }).click();
    await expect.poll(() => page.locator('#pay-status').getAttribute('class'), { timeout: 15_000 }).toBe('ok');
    expect(await text(page, '#pay-status')).toMatch(/^Paid\. Transaction 0x[0-9a-f]{64} on eip155:84532\.$/);
    const answer = JSON.parse(await text(page, '#result-body')) as { method: string; url: string; payer: string };
    expect(answer).toMatchObject({ method: 'GET', url: '/services/echo/v1/chat' });
    expect(getAddress(answer.payer)).toBe(BUYER.address);
    expect(await page.evaluate(() => (globalThis as unknown as { __walletCalls: string[] }).__walletCalls)).toEqual([
      'eth_requestAccounts', 'eth_chainId', 'wallet_switchEthereumChain', 'eth_signTypedData_v4',
    ]);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
    expect(f.origin.hits).toHaveLength(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'paywall-paid.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows the catalog at / with the same prices, networks, assets and recipients as /api/services.json', async () => {
    const services = ((await (await f.edge.fetch('/api/services.json')).json()) as {
      services: Array<{ name: string; namespace: string; priceAtomicUnits: string; caip2Network: string; payTo: string; asset: { address: string; decimals: number }; drainEndsAt?: string }>;
    }).services;
    const response = await page.goto(`${f.edge.url}/`);
    expect(response?.status()).toBe(200);
    const cards = page.locator('article[data-offer]');
    expect(await cards.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-offer')))).toEqual(services.map((s) => `${s.namespace}/${s.name}`));
    for (const service of services) {
      const card = page.locator(`article[data-offer="${service.namespace}/${service.name}"]`);
      expect(await card.locator('[data-field="atomic"]').textContent()).toBe(service.priceAtomicUnits);
      expect(await card.locator('[data-field="amount"]').textContent()).toBe(formatAtomicAmount({ amount: service.priceAtomicUnits, decimals: service.asset.decimals }));
      expect(await card.locator('[data-field="network"]').textContent()).toBe(service.caip2Network);
      expect(await card.locator('[data-field="asset"]').textContent()).toBe(service.asset.address);
      expect(await card.locator('[data-field="payTo"]').textContent()).toBe(service.payTo);
      if (service.drainEndsAt) await expect.poll(() => card.locator('[data-countdown]').textContent()).toMatch(/^\(in (\d+h )?\d+m \d+s\)$/);
    }
    expect(services.some((s) => s.drainEndsAt !== undefined)).toBe(true);
    for (const path of ['/skill.md', '/api/services.json', '/.well-known/agent-registration.json']) expect(await page.locator(`a[href="${path}"]`).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'catalog-page.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('still answers curl-style and script clients (Accept */*) with the JSON 402', async () => {
    const curl = await fetch(`${f.edge.url}/services/echo`, { headers: { Accept: '*/*', 'User-Agent': 'curl/8.5.0' } });
    expect(curl.status).toBe(402);
    expect(curl.headers.get('content-type')).toBe('application/json');
    expect(await curl.json()).toMatchObject({ x402Version: 1, error: 'payment_required' });
    // From a same-origin document without the pages' CSP (the pages themselves may fetch nothing but their own URL).
    await page.goto(`${f.edge.url}/api/services.json`);
    const inPage = await page.evaluate(async () => {
      const res = await fetch('/services/echo');
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { x402Version: number } };
    });
    expect(inPage).toMatchObject({ status: 402, type: 'application/json', body: { x402Version: 1 } });
    f.expectUntouched();
  });
});
