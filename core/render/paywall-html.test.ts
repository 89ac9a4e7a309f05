import { describe, expect, it } from 'vitest';
import { testRequirement } from '../../test/support/payments.js';
import { sampleOffer } from '../../test/support/snapshots.js';
import type { PaymentRequirement } from '../requirement.js';
import { buildChallenges } from '../x402/challenge.js';
import { cspHash } from './html.js';
import { PAGE_STYLE } from './page-style.js';
import { renderPaywallPage } from './paywall-html.js';
import { PAYWALL_DATA_ID, PAYWALL_SCRIPT } from './paywall-script.js';

const RESOURCE = 'https://edge.test/services/echo/v1/chat';
const HOSTILE = '</script><script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & \'single\'';

function page(requirement: PaymentRequirement, offer = sampleOffer({ name: 'echo' }), drainEndsAt?: string) {
  const { v2 } = buildChallenges({ requirement, resourceUrl: RESOURCE, error: 'payment_required' });
  return { challenge: v2, ...renderPaywallPage({ challenge: v2, requirements: [requirement], offer, ...(drainEndsAt ? { drainEndsAt } : {}) }) };
}

/** The text of the first element carrying `data-field="<name>"`. */
function field(markup: string, name: string): string | undefined {
  return new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(markup)?.[1];
}

function embeddedChallenge(markup: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${PAYWALL_DATA_ID}">([^<]*)</script>`).exec(markup);
  return match ? JSON.parse(match[1] ?? '') : undefined;
}

describe('renderPaywallPage', () => {
  it('shows the amount in token units, the network, the asset and the recipient of the requirement', () => {
    const requirement = testRequirement();
    const { html } = page(requirement);
    expect(field(html, 'amount')).toBe('0.001');
    expect(field(html, 'atomic')).toBe(requirement.amount);
    expect(field(html, 'symbol')).toBe('USDC');
    expect(field(html, 'network-name')).toBe('Base Sepolia');
    expect(field(html, 'network')).toBe('eip155:84532');
    expect(field(html, 'asset')).toBe(requirement.asset.address);
    expect(field(html, 'payTo')).toBe(requirement.payTo);
    expect(field(html, 'resource')).toBe(RESOURCE);
    expect(html).toContain('Pay 0.001 USDC on Base Sepolia with a browser wallet');
  });

  it('writes amounts exactly from the atomic units and the token decimals, never through a float', () => {
    const eighteen = testRequirement({ amount: '18446744073709551617', asset: { ...testRequirement().asset, decimals: 18, symbol: 'TKN' } });
    expect(field(page(eighteen).html, 'amount')).toBe('18.446744073709551617');
    expect(field(page(testRequirement({ amount: '1' })).html, 'amount')).toBe('0.000001');
  });

  it('names chains it knows, else by v1 name or chain id, always with the CAIP-2 id', () => {
    const base = testRequirement({ network: 'eip155:8453', chainId: 8453, v1Network: 'base' });
    expect(field(page(base).html, 'network-name')).toBe('Base');
    const { v1Network: _dropped, ...unnamed } = testRequirement({ network: 'eip155:424242', chainId: 424242 });
    expect(field(page(unnamed).html, 'network-name')).toBe('Chain 424242');
    expect(field(page(unnamed).html, 'network')).toBe('eip155:424242');
  });

  it('embeds exactly the PAYMENT-REQUIRED challenge for its script to pay', () => {
    const { html, challenge } = page(testRequirement());
    expect(embeddedChallenge(html)).toEqual(challenge);
  });

  it('escapes a hostile seller description everywhere it appears, and runs no script but its own', () => {
    const requirement = testRequirement({ description: HOSTILE });
    const offer = sampleOffer({ name: 'echo', spec: { model: { name: '<b>m</b>', runtime: 'ollama' } } });
    const { html, challenge } = page(requirement, offer);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>m</b>');
    expect(field(html, 'description')).toBe('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &quot;quoted&quot; &amp; &#39;single&#39;');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(embeddedChallenge(html)).toEqual(challenge);
  });

  it('allows its own inline style and script by hash, fetches only its own origin and loads nothing from elsewhere', () => {
    const { html, contentSecurityPolicy } = page(testRequirement());
    expect(contentSecurityPolicy).toContain(`script-src ${cspHash(PAYWALL_SCRIPT)};`);
    expect(contentSecurityPolicy).toContain(`style-src ${cspHash(PAGE_STYLE)};`);
    expect(contentSecurityPolicy).toContain("connect-src 'self'");
    expect(contentSecurityPolicy.startsWith("default-src 'none'")).toBe(true);
    expect(html).not.toMatch(/\s(src|srcset)=/);
    expect(html).not.toMatch(/<link(?![^>]*href="data:,")/);
    expect(html).toContain('href="/"');
    expect(html).toContain('href="/api/services.json"');
  });

  it('states the listed price beside the per-request charge for per-MTok offers, and the deadline while draining', () => {
    const offer = sampleOffer({ name: 'llm', spec: { payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perMTok: '2' } } } });
    const requirement = offer.requirement ?? testRequirement();
    const { html } = page(requirement, offer, '2026-06-01T13:00:00Z');
    expect(field(html, 'amount')).toBe('0.002');
    expect(field(html, 'listed-price')).toBe('2 USDC per million tokens at 1,000 tokens per request');
    expect(field(html, 'drain-ends')).toBe('2026-06-01T13:00:00Z');
    expect(field(page(testRequirement()).html, 'listed-price')).toBeUndefined();
  });

  it('refuses a challenge whose options do not match the requirements', () => {
    const { challenge } = page(testRequirement());
    expect(() => renderPaywallPage({ challenge, requirements: [], offer: sampleOffer() })).toThrow(RangeError);
  });

  it('ships a script that parses', () => {
    expect(() => new Function(PAYWALL_SCRIPT)).not.toThrow();
  });
});
