import { describe, expect, it } from 'vitest';
import { ServiceOfferSpec, type ServiceOfferSpec as Spec } from './offer.js';
import { testRequirement } from '../test/support/payments.js';
import { offerDescription, PaymentRequirement, resolvePayment } from './requirement.js';

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const ASSET = '0x1111111111111111111111111111111111111111';

function spec(payment: Record<string, unknown>, extra: Record<string, unknown> = {}): Spec {
  return ServiceOfferSpec.parse({ upstream: { service: 'svc' }, payment: { payTo: PAY_TO, price: { perRequest: '0.001' }, ...payment }, ...extra });
}

describe('resolvePayment', () => {
  it('builds the full requirement for a named network from its USDC defaults', () => {
    const result = resolvePayment(spec({ network: 'base-sepolia' }, { type: 'inference' }));
    expect(result).toEqual({
      ok: true,
      price: { unit: 'perRequest', raw: '0.001' },
      display: '0.001 USDC/request',
      alternatives: [],
      // The network table's Base Sepolia USDC, as every test payment uses it.
      requirement: testRequirement({ payTo: PAY_TO, description: 'x402 payment-gated inference service' }),
    });
    if (result.ok) expect(PaymentRequirement.parse(result.requirement)).toEqual(result.requirement);
  });

  it('gives a CAIP-2 name of a known chain its v1 name too', () => {
    const result = resolvePayment(spec({ network: 'eip155:8453' }));
    expect(result.ok && result.requirement.v1Network).toBe('base');
  });

  it('makes an unknown CAIP-2 chain without an asset unpublishable', () => {
    expect(resolvePayment(spec({ network: 'eip155:10' }))).toMatchObject({ ok: false, reason: 'UnknownNetwork' });
    expect(resolvePayment(spec({ network: 'solana' }))).toMatchObject({ ok: false, reason: 'UnknownNetwork' });
  });

  it('serves an unknown CAIP-2 chain with a complete asset to v2 clients only (no v1 name)', () => {
    const asset = { address: ASSET, symbol: 'TOK', decimals: 18, eip712Name: 'Token', eip712Version: '1' };
    const result = resolvePayment(spec({ network: 'eip155:10', asset, price: { perMTok: '1' } }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.requirement.v1Network).toBeUndefined();
    expect(result.requirement).toMatchObject({ network: 'eip155:10', chainId: 10, amount: '1000000000000000' });
    expect(result.display).toBe('1 TOK/MTok');
  });

  it('refuses a non-USDC asset missing its decimals or EIP-712 domain (IncompleteAsset)', () => {
    expect(resolvePayment(spec({ network: 'base', asset: { address: ASSET } }))).toMatchObject({ ok: false, reason: 'IncompleteAsset' });
  });

  it('fills a USDC asset given by address from the chain defaults', () => {
    const result = resolvePayment(spec({ network: 'base', asset: { address: '0x833589fcd6eDb6E08f4c7C32D4f71b54bdA02913' } }));
    expect(result.ok && result.requirement.asset.eip712Domain).toEqual({ name: 'USD Coin', version: '2' });
  });

  it('reports a missing chargeable price and a price free by rounding', () => {
    expect(resolvePayment(spec({ network: 'base', price: { perEpoch: '1' } }))).toMatchObject({ ok: false, reason: 'NoChargeablePrice' });
    expect(resolvePayment(spec({ network: 'base', price: { perHour: '0.000005' } }))).toMatchObject({ ok: false, reason: 'FreeByRounding' });
  });

  it('carries maxTimeoutSeconds and the registration description', () => {
    const result = resolvePayment(spec({ network: 'base', maxTimeoutSeconds: 60 }, { registration: { enabled: true, description: 'Fast LLM' } }));
    expect(result.ok && result.requirement).toMatchObject({ maxTimeoutSeconds: 60, description: 'Fast LLM' });
  });
});

describe('offerDescription', () => {
  it('uses the registration description, else the generic line', () => {
    expect(offerDescription({ type: 'agent', registration: undefined })).toBe('x402 payment-gated agent service');
    expect(offerDescription(spec({ network: 'base' }, { registration: { description: 'Mine' } }))).toBe('Mine');
  });
});
