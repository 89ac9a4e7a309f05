import { describe, expect, it } from 'vitest';
import type { ServiceOfferInput } from './offer.js';
import { describeProblems, parseServiceOffer } from './offer-rules.js';
import { planCatalog } from './catalog-plan.js';
import { paymentOptions, SnapshotOffer } from './snapshot.js';
import { resolvePayment } from './requirement.js';

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER_PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const TOKEN_18 = { address: '0x1111111111111111111111111111111111111111', symbol: 'TOK', decimals: 18, eip712Name: 'Token', eip712Version: '1' };

function offer(payment: Record<string, unknown>): ServiceOfferInput {
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: 'qwen', namespace: 'llm' },
    spec: { upstream: { service: 'ollama' }, payment: { network: 'base-sepolia', payTo: PAY_TO, price: { perRequest: '0.001' }, ...payment } },
  } as ServiceOfferInput;
}

function problemsOf(input: ServiceOfferInput): string {
  const parsed = parseServiceOffer(input);
  if (parsed.ok) throw new Error('expected problems');
  return describeProblems(parsed.problems);
}

function parsedSpec(input: ServiceOfferInput) {
  const parsed = parseServiceOffer(input);
  if (!parsed.ok) throw new Error(describeProblems(parsed.problems));
  return parsed.offer.spec;
}

describe('spec.payment.alternatives', () => {
  it('resolves every option at the same token-unit price, each at its own decimals, in the seller\'s order', () => {
    const spec = parsedSpec(offer({ alternatives: [{ network: 'base' }, { network: 'eip155:10', asset: TOKEN_18, payTo: OTHER_PAY_TO }] }));
    const result = resolvePayment(spec);
    if (!result.ok) throw new Error(result.message);
    expect(result.requirement).toMatchObject({ network: 'eip155:84532', amount: '1000', payTo: PAY_TO });
    expect(result.alternatives).toHaveLength(2);
    // Base's USDC: 6 decimals, domain "USD Coin"; the recipient defaults to the primary's.
    expect(result.alternatives[0]).toMatchObject({ network: 'eip155:8453', v1Network: 'base', chainId: 8453, amount: '1000', payTo: PAY_TO });
    expect(result.alternatives[0]?.asset).toMatchObject({ address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', eip712Domain: { name: 'USD Coin', version: '2' } });
    // 0.001 at 18 decimals, exactly; no v1 name for a chain the table does not know.
    expect(result.alternatives[1]).toMatchObject({ network: 'eip155:10', chainId: 10, amount: '1000000000000000', payTo: OTHER_PAY_TO });
    expect(result.alternatives[1]?.v1Network).toBeUndefined();
    expect(result.display).toBe('0.001 USDC/request');
  });

  it('leaves an offer without alternatives exactly as before: no alternatives in its snapshot entry', () => {
    const spec = parsedSpec(offer({}));
    expect(resolvePayment(spec)).toMatchObject({ ok: true, alternatives: [] });
    const plan = planCatalog({ offers: [{ key: 'llm/qwen', parsed: parseServiceOffer(offer({})) }], observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: 0 });
    expect(plan.offers[0]).not.toHaveProperty('alternatives');
  });

  it('carries the alternatives in the snapshot entry after the unchanged primary requirement', () => {
    const plan = planCatalog({ offers: [{ key: 'llm/qwen', parsed: parseServiceOffer(offer({ alternatives: [{ network: 'base' }] })) }], observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: 0 });
    const entry = SnapshotOffer.parse(plan.offers[0]);
    expect(entry.network).toBe('base-sepolia');
    expect(entry.requirement?.network).toBe('eip155:84532');
    expect(paymentOptions(entry).map((r) => r.network)).toEqual(['eip155:84532', 'eip155:8453']);
  });

  it.each([
    ['an unknown network name', [{ network: 'solana' }], 'spec.payment.alternatives[0].network: network "solana" is not known'],
    ['a chain without a default asset', [{ network: 'eip155:10' }], 'spec.payment.alternatives[0].asset: network "eip155:10" has no default asset'],
    ['an incomplete asset', [{ network: 'eip155:10', asset: { address: TOKEN_18.address } }], 'spec.payment.alternatives[0].asset: asset needs address, decimals'],
    ['the primary repeated', [{ network: 'eip155:84532' }], 'spec.payment.alternatives[0]: duplicate option: spec.payment already accepts'],
    ['an alternative repeated', [{ network: 'base' }, { network: 'base', asset: { address: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913' } }], 'spec.payment.alternatives[1]: duplicate option: spec.payment.alternatives[0] already accepts'],
    ['a bad asset address', [{ network: 'base', asset: { address: '0x1234' } }], 'spec.payment.alternatives[0].asset.address: must be a 0x-prefixed 20-byte hex address'],
    ['a mistyped checksum', [{ network: 'base', payTo: '0x70997970c51812dc3a010C7d01b50e0d17dc79C8' }], 'spec.payment.alternatives[0].payTo: mixed-case address whose EIP-55 checksum does not match'],
    ['a price free at its decimals', [{ network: 'eip155:10', asset: { ...TOKEN_18, decimals: 0 } }], 'spec.payment.alternatives[0].asset: price 0.001 (perRequest) rounds to 0 atomic units at 0 decimals'],
  ])('refuses %s, naming the field', (_case, alternatives, message) => {
    expect(problemsOf(offer({ alternatives }))).toContain(message);
  });

  it('leaves an offer with an invalid alternative unpublished, its status naming the field (never published without it)', () => {
    const parsed = parseServiceOffer(offer({ alternatives: [{ network: 'base' }, { network: 'solana' }] }));
    const plan = planCatalog({ offers: [{ key: 'llm/qwen', parsed }], observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: 0 });
    expect(plan.offers).toEqual([]);
    expect(plan.decisions[0]?.verdict).toMatchObject({ published: false, reason: 'InvalidSpec' });
    expect(plan.decisions[0]?.invalid).toContain('spec.payment.alternatives[1].network: network "solana" is not known');
  });

  it('refuses more than seven alternatives', () => {
    const alternatives = Array.from({ length: 8 }, (_, i) => ({ network: `eip155:${100 + i}`, asset: TOKEN_18 }));
    expect(problemsOf(offer({ alternatives }))).toContain('spec.payment.alternatives: must list at most 7 alternatives');
  });

  it('refuses a snapshot entry whose alternatives list is empty (absent means none)', () => {
    const plan = planCatalog({ offers: [{ key: 'llm/qwen', parsed: parseServiceOffer(offer({ alternatives: [{ network: 'base' }] })) }], observe: () => ({ upstreamHealthy: true, routePublished: true }), routeManagement: false, source: 'dir', nowMs: 0 });
    expect(SnapshotOffer.safeParse({ ...plan.offers[0], alternatives: [] }).success).toBe(false);
  });
});
