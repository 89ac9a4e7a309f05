import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureSnapshot, FIXTURE_PAY_TO, offerManifest } from '../test/support/catalog-fixture.js';
import { planCatalog } from './catalog-plan.js';
import type { ServiceOfferInput } from './offer.js';
import { describeProblems, parseServiceOffer } from './offer-rules.js';
import { chargeablePrice, perRequestAtomicAmount, priceBasis, type ChargeablePrice } from './price.js';
import { renderCatalogPage } from './render/catalog-html.js';
import { renderPaywallPage } from './render/paywall-html.js';
import { renderServicesDocument } from './render/services-json.js';
import { renderSkillMarkdown } from './render/skill-md.js';
import { resolvePayment } from './requirement.js';
import { buildChallenges } from './x402/challenge.js';

/**
 * Issue 11 part 5: the per-request charge of a perMTok / perHour offer and the assumption behind it
 * (`price.tokensPerRequest`, `price.minutesPerRequest`) are configurable and stated to buyers.
 */

const NOW = Date.parse('2026-11-23T10:00:00Z');
const BASE = 'https://edge.example.com';
type Price = NonNullable<ServiceOfferInput['spec']['payment']>['price'];

function llm(price: Price, name = 'llm'): ServiceOfferInput {
  return offerManifest({ name, spec: { type: 'inference', model: { name: 'llama3.2:1b' }, payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price } } });
}

function snapshotOf(...manifests: ServiceOfferInput[]) {
  return fixtureSnapshot({ manifests, nowMs: NOW });
}

function problemsOf(input: ServiceOfferInput): string {
  const parsed = parseServiceOffer(input);
  if (parsed.ok) throw new Error('expected problems');
  return describeProblems(parsed.problems);
}

/** floor(x + 1/2) of price × share × 10^decimals, computed independently with bigints. */
function reference(raw: string, numerator: bigint, denominator: bigint, decimals: number): bigint {
  const [whole = '0', fraction = ''] = raw.split('.');
  const n = BigInt(`${whole}${fraction}`) * 10n ** BigInt(decimals) * numerator;
  const d = 10n ** BigInt(fraction.length) * denominator;
  return (2n * n + d) / (2n * d);
}

const decimalString = fc
  .tuple(fc.stringMatching(/^[0-9]{1,20}$/), fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }))
  .map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`));

describe('per-request amount with a configured assumption', () => {
  it('charges perMTok × tokensPerRequest / 1,000,000 and perHour × minutesPerRequest / 60', () => {
    const at6 = (price: ChargeablePrice) => perRequestAtomicAmount({ price, decimals: 6 });
    expect(at6({ unit: 'perMTok', raw: '2', tokensPerRequest: 4000 })).toBe(8000n); // 0.008
    expect(at6({ unit: 'perMTok', raw: '2', tokensPerRequest: 1_000_000 })).toBe(2_000_000n); // the whole MTok price
    expect(at6({ unit: 'perHour', raw: '0.5', minutesPerRequest: 5 })).toBe(41667n); // 0.0416666… rounds up
    expect(at6({ unit: 'perHour', raw: '1.2', minutesPerRequest: 1 })).toBe(20000n);
    expect(at6({ unit: 'perHour', raw: '3', minutesPerRequest: 1440 })).toBe(72_000_000n); // a day
  });

  it('defaults to today\'s assumptions (1,000 tokens, 5 minutes), so existing offers keep their amounts', () => {
    expect(chargeablePrice({ perMTok: '2' })).toEqual({ unit: 'perMTok', raw: '2', tokensPerRequest: 1000 });
    expect(chargeablePrice({ perHour: '1' })).toEqual({ unit: 'perHour', raw: '1', minutesPerRequest: 5 });
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 0, max: 36 }), (raw, decimals) => {
        expect(perRequestAtomicAmount({ price: { unit: 'perMTok', raw }, decimals })).toBe(reference(raw, 1n, 1000n, decimals));
        expect(perRequestAtomicAmount({ price: { unit: 'perHour', raw }, decimals })).toBe(reference(raw, 1n, 12n, decimals));
        expect(perRequestAtomicAmount({ price: chargeablePrice({ perMTok: raw })!, decimals })).toBe(reference(raw, 1n, 1000n, decimals));
      }),
      { numRuns: 500 },
    );
  });

  it('is the exact rational rounded half up for any assumption in bounds', () => {
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1440 }), fc.integer({ min: 0, max: 36 }), (raw, tokens, minutes, decimals) => {
        expect(perRequestAtomicAmount({ price: { unit: 'perMTok', raw, tokensPerRequest: tokens }, decimals })).toBe(reference(raw, BigInt(tokens), 1_000_000n, decimals));
        expect(perRequestAtomicAmount({ price: { unit: 'perHour', raw, minutesPerRequest: minutes }, decimals })).toBe(reference(raw, BigInt(minutes), 60n, decimals));
      }),
      { numRuns: 1000 },
    );
  });

  it('rounds half an atomic unit up and refuses an offer whose charge rounds to 0 (today\'s rule)', () => {
    // 0.5 USDC/MTok at 1 token = 0.0000005 USDC = half an atomic unit: rounds up to 1.
    expect(perRequestAtomicAmount({ price: { unit: 'perMTok', raw: '0.5', tokensPerRequest: 1 }, decimals: 6 })).toBe(1n);
    expect(perRequestAtomicAmount({ price: { unit: 'perMTok', raw: '0.4', tokensPerRequest: 1 }, decimals: 6 })).toBe(0n);
    const parsed = parseServiceOffer(llm({ perMTok: '0.4', tokensPerRequest: 1 }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(resolvePayment(parsed.offer.spec)).toMatchObject({ ok: false, reason: 'FreeByRounding' });
  });
});

describe('bad assumptions', () => {
  const cases: [string, Price, string][] = [
    ['zero tokens', { perMTok: '2', tokensPerRequest: 0 }, 'spec.payment.price.tokensPerRequest: must be at least 1 token'],
    ['negative tokens', { perMTok: '2', tokensPerRequest: -5 }, 'spec.payment.price.tokensPerRequest: must be at least 1 token'],
    ['fractional tokens', { perMTok: '2', tokensPerRequest: 1.5 }, 'spec.payment.price.tokensPerRequest: must be a whole number of tokens'],
    ['too many tokens', { perMTok: '2', tokensPerRequest: 1_000_001 }, 'spec.payment.price.tokensPerRequest: must be at most 1000000 tokens'],
    ['tokens as a string', { perMTok: '2', tokensPerRequest: '4000' as unknown as number }, 'spec.payment.price.tokensPerRequest'],
    ['zero minutes', { perHour: '1', minutesPerRequest: 0 }, 'spec.payment.price.minutesPerRequest: must be at least 1 minute'],
    ['negative minutes', { perHour: '1', minutesPerRequest: -1 }, 'spec.payment.price.minutesPerRequest: must be at least 1 minute'],
    ['fractional minutes', { perHour: '1', minutesPerRequest: 2.5 }, 'spec.payment.price.minutesPerRequest: must be a whole number of minutes'],
    ['too many minutes', { perHour: '1', minutesPerRequest: 1441 }, 'spec.payment.price.minutesPerRequest: must be at most 1440 minutes (a day)'],
    ['tokens without perMTok', { perRequest: '0.01', tokensPerRequest: 4000 }, 'spec.payment.price.tokensPerRequest: applies only when perMTok is the charged price'],
    ['tokens when perRequest wins', { perRequest: '0.01', perMTok: '2', tokensPerRequest: 4000 }, 'spec.payment.price.tokensPerRequest: applies only when perMTok is the charged price'],
    ['minutes with perMTok', { perMTok: '2', minutesPerRequest: 5 }, 'spec.payment.price.minutesPerRequest: applies only when perHour is the charged price'],
  ];

  it.each(cases)('%s: a field-named error', (_label, price, message) => {
    expect(problemsOf(llm(price))).toContain(message);
  });

  it.each(cases)('%s: the offer is left out of the catalog, the others are unchanged', (_label, price) => {
    const good = parseServiceOffer(llm({ perMTok: '2', tokensPerRequest: 4000 }, 'good'));
    const bad = parseServiceOffer(llm(price, 'bad'));
    expect(bad.ok).toBe(false);
    const plan = (offers: { key: string; parsed: typeof good }[]) =>
      planCatalog({ offers, observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: NOW }).offers;
    expect(plan([{ key: 'default/good', parsed: good }, { key: 'default/bad', parsed: bad }])).toEqual(plan([{ key: 'default/good', parsed: good }]));
  });
});

describe('every document a buyer reads states the charge and the assumption', () => {
  const snapshot = snapshotOf(llm({ perMTok: '2', tokensPerRequest: 4000 }), llm({ perHour: '0.5', minutesPerRequest: 3 }, 'gpu'), llm({ perRequest: '0.001' }, 'plain'));
  const TOKENS = '2 USDC per million tokens at 4,000 tokens per request';
  const MINUTES = '0.5 USDC per hour at 3 minutes per request';

  it('words the assumption', () => {
    expect(priceBasis({ unit: 'perMTok', raw: '2', tokensPerRequest: 4000 }, 'USDC')).toBe(TOKENS);
    expect(priceBasis({ unit: 'perHour', raw: '0.5', minutesPerRequest: 1 }, 'USDC')).toBe('0.5 USDC per hour at 1 minute per request');
    expect(priceBasis({ unit: 'perMTok', raw: '2', tokensPerRequest: 1_000_000 }, 'USDC')).toBe('2 USDC per million tokens at 1,000,000 tokens per request');
    expect(priceBasis({ unit: 'perRequest', raw: '2' }, 'USDC')).toBeUndefined();
  });

  it('services.json: additive pricePerRequest, tokensPerRequest / minutesPerRequest and priceBasis', () => {
    const doc = renderServicesDocument({ snapshot, baseUrl: BASE, nowMs: NOW });
    const byName = new Map(doc.services.map((entry) => [entry.name, entry]));
    expect(byName.get('llm')).toMatchObject({ price: '2 USDC/MTok', priceRaw: '2', priceUnit: 'perMTok', priceAtomicUnits: '8000', pricePerRequest: '0.008', tokensPerRequest: 4000, priceBasis: TOKENS });
    expect(byName.get('llm')).not.toHaveProperty('minutesPerRequest');
    expect(byName.get('gpu')).toMatchObject({ price: '0.5 USDC/hour', priceUnit: 'perHour', priceAtomicUnits: '25000', pricePerRequest: '0.025', minutesPerRequest: 3, priceBasis: MINUTES });
    expect(byName.get('gpu')).not.toHaveProperty('tokensPerRequest');
    const plain = byName.get('plain');
    expect(plain).toMatchObject({ price: '0.001 USDC/request', priceAtomicUnits: '1000', pricePerRequest: '0.001' });
    for (const key of ['tokensPerRequest', 'minutesPerRequest', 'priceBasis']) expect(plain).not.toHaveProperty(key);
  });

  it('skill.md: the table and the details', () => {
    const markdown = renderSkillMarkdown({ snapshot, baseUrl: BASE, nowMs: NOW });
    expect(markdown).toContain('| 2 USDC/MTok = 0.008 USDC/request |');
    expect(markdown).toContain(`- **Price**: 0.008 USDC per request (${TOKENS}; \`8000\` atomic units per request)`);
    expect(markdown).toContain(`- **Price**: 0.025 USDC per request (${MINUTES}; \`25000\` atomic units per request)`);
    expect(markdown).toContain('- **Price**: 0.001 USDC/request (`1000` atomic units per request)');
  });

  it('the 402: its description in both generations, and the page for people', () => {
    const offer = snapshot.offers.find((entry) => entry.name === 'llm')!;
    const requirement = offer.requirement!;
    expect(requirement.amount).toBe('8000');
    const description = `x402 payment-gated inference service — 0.008 USDC per request (${TOKENS})`;
    expect(requirement.description).toBe(description);
    const { v1, v2 } = buildChallenges({ requirement, resourceUrl: `${BASE}/services/llm`, error: 'payment_required' });
    expect(v2.resource.description).toBe(description);
    expect(JSON.stringify(v1)).toContain(JSON.stringify(description));
    const page = renderPaywallPage({ challenge: v2, requirements: [requirement], offer });
    expect(page.html).toContain('data-field="amount">0.008<');
    expect(page.html).toContain(`data-field="listed-price">${TOKENS}<`);
    const plain = snapshot.offers.find((entry) => entry.name === 'plain')!.requirement!;
    expect(plain.description).toBe('x402 payment-gated inference service');
  });

  it('the catalog page', () => {
    const { html } = renderCatalogPage({ snapshot, baseUrl: BASE, nowMs: NOW });
    expect(html).toContain(`data-field="listed-price">${TOKENS}<`);
    expect(html).toContain(`data-field="listed-price">${MINUTES}<`);
    expect(html).toContain('data-field="amount">0.008<');
    expect(html).toContain('data-field="amount">0.025<');
  });

  it('keeps a long seller description within the 402 bound, the charge intact', () => {
    const manifest = offerManifest({ name: 'long', spec: { payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price: { perMTok: '2', tokensPerRequest: 4000 } }, registration: { enabled: true, description: 'x'.repeat(4096) } } });
    const requirement = snapshotOf(manifest).offers[0]!.requirement!;
    expect(requirement.description).toHaveLength(4096);
    expect(requirement.description.endsWith(`… — 0.008 USDC per request (${TOKENS})`)).toBe(true);
  });
});
