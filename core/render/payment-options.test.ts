import { describe, expect, it } from 'vitest';
import { FIXTURE_PAY_TO, fixtureSnapshot, offerManifest } from '../../test/support/catalog-fixture.js';
import { renderCatalogPage } from './catalog-html.js';
import { renderOpenApiDocument } from './openapi.js';
import { renderServicesDocument, ServicesDocument } from './services-json.js';
import { renderSkillMarkdown } from './skill-md.js';

/** Issue 11: every discovery document shows every way to pay; a single-option offer's documents keep today's keys only. */
const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
const TOKEN_18 = { address: '0x2222222222222222222222222222222222222222', symbol: 'TOK', decimals: 18, eip712Name: 'Token', eip712Version: '1' };
const OTHER_PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

const multi = offerManifest({
  name: 'multi',
  spec: { payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price: { perRequest: '0.001' }, alternatives: [{ network: 'base' }, { network: 'eip155:10', asset: TOKEN_18, payTo: OTHER_PAY_TO }] } },
});
const single = offerManifest({ name: 'single' });
const snapshot = fixtureSnapshot({ manifests: [multi, single], nowMs: NOW });
const params = { snapshot, baseUrl: BASE, nowMs: NOW };

describe('discovery documents of an offer with several ways to pay', () => {
  it('services.json keeps the first option in its flat keys and lists every option in paymentOptions (valid against its schema)', () => {
    const doc = ServicesDocument.parse(renderServicesDocument(params));
    const [entry, plain] = doc.services;
    expect(entry).toMatchObject({ name: 'multi', network: 'base-sepolia', caip2Network: 'eip155:84532', chainId: 84532, payTo: FIXTURE_PAY_TO, priceAtomicUnits: '1000' });
    expect(entry?.paymentOptions?.map((o) => [o.caip2Network, o.v1Network, o.priceAtomicUnits, o.pricePerRequest, o.asset.address, o.payTo])).toEqual([
      ['eip155:84532', 'base-sepolia', '1000', '0.001', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', FIXTURE_PAY_TO],
      ['eip155:8453', 'base', '1000', '0.001', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', FIXTURE_PAY_TO],
      ['eip155:10', undefined, '1000000000000000', '0.001', TOKEN_18.address, OTHER_PAY_TO],
    ]);
    expect(plain).not.toHaveProperty('paymentOptions');
  });

  it('skill.md names the other options under the offer, and only there', () => {
    const markdown = renderSkillMarkdown(params);
    const [multiBlock, singleBlock] = markdown.split('### single');
    expect(multiBlock).toContain('- **Also accepts** (the same price; the 402 lists each):');
    expect(multiBlock).toContain('  - Base (`eip155:8453`): 0.001 USDC (`1000` atomic units) of `0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913`');
    expect(multiBlock).toContain(`  - Chain 10 (\`eip155:10\`): 0.001 TOK (\`1000000000000000\` atomic units) of \`${TOKEN_18.address}\` to \`${OTHER_PAY_TO}\``);
    expect(singleBlock).not.toContain('Also accepts');
  });

  it('/openapi.json: x-payment-info keeps the first option and adds options; the 402 example lists the v1-named ones', () => {
    const doc = renderOpenApiDocument(params) as { paths: Record<string, Record<string, { 'x-payment-info': Record<string, unknown>; responses: Record<string, { content: { 'application/json': { example: { accepts: Array<{ network: string }> } } } }> }>> };
    const [multiOp, singleOp] = [Object.values(doc.paths['/services/multi'] ?? {})[0], Object.values(doc.paths['/services/single'] ?? {})[0]];
    const info = multiOp?.['x-payment-info'];
    expect(info).toMatchObject({ network: 'eip155:84532', amount: '1000', payTo: FIXTURE_PAY_TO });
    expect((info?.['options'] as Array<{ network: string; amount: string }>).map((o) => [o.network, o.amount])).toEqual([['eip155:84532', '1000'], ['eip155:8453', '1000'], ['eip155:10', '1000000000000000']]);
    expect(multiOp?.responses['402']?.content['application/json'].example.accepts.map((a) => a.network)).toEqual(['base-sepolia', 'base']);
    expect(singleOp?.['x-payment-info']).not.toHaveProperty('options');
  });

  it('the catalog page shows each other option with its own terms', () => {
    const page = renderCatalogPage(params).html;
    const card = page.slice(page.indexOf('data-offer="default/multi"'), page.indexOf('data-offer="default/single"'));
    expect(card).toContain('<dl data-option="1">');
    expect(card).toContain('<code data-field="network">eip155:8453</code>');
    expect(card).toContain('<dl data-option="2">');
    expect(card).toContain(`<code data-field="payTo">${OTHER_PAY_TO}</code>`);
    expect(page.slice(page.indexOf('data-offer="default/single"'))).not.toContain('data-option');
  });
});
