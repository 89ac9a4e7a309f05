import { PaymentRequiredV1Schema, PaymentRequiredV2Schema } from '@x402/core/schemas';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { declarePaymentIdentifierExtension } from '@x402/extensions/payment-identifier';
import { describe, expect, it } from 'vitest';
import { testRequirement } from '../../test/support/payments.js';
import { buildChallenges } from './challenge.js';

const resourceUrl = 'https://edge.test/services/echo';

describe('buildChallenges', () => {
  it('offers the same deal to v1 (body) and v2 (header) from one requirement', () => {
    const requirement = testRequirement();
    const { v1, v2, header } = buildChallenges({ requirement, resourceUrl, error: 'payment_required' });
    expect(v1).toEqual({
      x402Version: 1,
      error: 'payment_required',
      accepts: [{
        scheme: 'exact', network: 'base-sepolia', maxAmountRequired: '1000', resource: resourceUrl,
        description: requirement.description, mimeType: 'application/json', payTo: requirement.payTo,
        maxTimeoutSeconds: 300, asset: requirement.asset.address, extra: { name: 'USDC', version: '2' },
      }],
    });
    expect(v2).toEqual({
      x402Version: 2,
      error: 'payment_required',
      resource: { url: resourceUrl, description: requirement.description, mimeType: 'application/json' },
      accepts: [{
        scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: requirement.asset.address,
        payTo: requirement.payTo, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' },
      }],
      extensions: { 'payment-identifier': declarePaymentIdentifierExtension(false) },
    });
    expect(decodePaymentRequiredHeader(header)).toEqual(v2);
  });

  it('passes the official x402 v1 and v2 PaymentRequired schemas', () => {
    const { v1, header } = buildChallenges({ requirement: testRequirement(), resourceUrl, error: 'payment_required' });
    expect(PaymentRequiredV1Schema.safeParse(v1).success).toBe(true);
    expect(PaymentRequiredV2Schema.safeParse(decodePaymentRequiredHeader(header)).success).toBe(true);
  });

  it('serves a chain without a v1 name to v2 clients only (v1 accepts is empty)', () => {
    const requirement = testRequirement({ network: 'eip155:999999', chainId: 999999, v1Network: undefined });
    delete requirement.v1Network;
    const { v1, v2 } = buildChallenges({ requirement, resourceUrl, error: 'payment_required' });
    expect(v1.accepts).toEqual([]);
    expect(v2.accepts[0]?.network).toBe('eip155:999999');
  });

  it('lists every option in order from one list: all in v2 (read by @x402/core), those with a v1 name in v1', () => {
    const requirement = testRequirement();
    const base = testRequirement({ network: 'eip155:8453', v1Network: 'base', chainId: 8453 });
    const v2Only = testRequirement({ network: 'eip155:999999', chainId: 999999 });
    delete v2Only.v1Network;
    const { v1, header } = buildChallenges({ requirement, alternatives: [v2Only, base], resourceUrl, error: 'payment_required' });
    const decoded = decodePaymentRequiredHeader(header) as { accepts: Array<{ network: string }> };
    expect(decoded.accepts.map((a) => a.network)).toEqual(['eip155:84532', 'eip155:999999', 'eip155:8453']);
    expect(v1.accepts.map((a) => a.network)).toEqual(['base-sepolia', 'base']);
  });

  it('encodes non-ASCII descriptions as UTF-8 inside the base64 header', () => {
    const requirement = testRequirement({ description: 'Übersetzung — 翻訳' });
    const { header } = buildChallenges({ requirement, resourceUrl, error: 'x' });
    expect(header).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((decodePaymentRequiredHeader(header) as { resource: { description: string } }).resource.description).toBe('Übersetzung — 翻訳');
  });
});
