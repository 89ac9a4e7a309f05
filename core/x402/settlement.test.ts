import { decodePaymentResponseHeader } from '@x402/core/http';
import { describe, expect, it } from 'vitest';
import { rewrapAsV1, signPayment, testRequirement } from '../../test/support/payments.js';
import type { PaymentPayloadV2 } from './payment-header.js';
import { facilitatorReasonForBuyer } from './reasons.js';
import { authorizationKey, encodeReceipt, facilitatorRequest, NoV1RequirementError, receiptHeaderName, receiptNetwork } from './settlement.js';

const requirement = testRequirement();
const resourceUrl = 'https://edge.test/services/echo';

describe('settlement wire', () => {
  it('keys the replay guard on the authorization, so a v2 payment re-wrapped as v1 is the same key', async () => {
    const v2 = (await signPayment({ requirement, version: 2 })) as PaymentPayloadV2;
    const v1 = rewrapAsV1(v2, 'base-sepolia');
    expect(authorizationKey(requirement, v1)).toBe(authorizationKey(requirement, v2));
    expect(authorizationKey(requirement, v2)).toBe(authorizationKey(requirement, v2).toLowerCase());
    const other = await signPayment({ requirement, version: 2 });
    expect(authorizationKey(requirement, other)).not.toBe(authorizationKey(requirement, v2));
  });

  it('sends the facilitator the gate\'s own requirement in the payment\'s generation', async () => {
    const v2 = await signPayment({ requirement, version: 2, accepted: { extra: { name: 'USDC', version: '2', injected: true } } });
    const body2 = facilitatorRequest(v2, requirement, resourceUrl);
    expect(body2.x402Version).toBe(2);
    expect(body2.paymentRequirements).toEqual({ scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: requirement.asset.address, payTo: requirement.payTo, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } });
    const v1 = await signPayment({ requirement, version: 1 });
    const body1 = facilitatorRequest(v1, requirement, resourceUrl);
    expect(body1).toMatchObject({ x402Version: 1, paymentRequirements: { network: 'base-sepolia', maxAmountRequired: '1000', resource: resourceUrl } });
    const v2Only = testRequirement({ network: 'eip155:999999', chainId: 999999 });
    delete v2Only.v1Network;
    expect(() => facilitatorRequest(v1, v2Only, resourceUrl)).toThrow(NoV1RequirementError);
  });

  it('encodes receipts the official client decodes, under the generation\'s header', () => {
    const receipt = { success: true, transaction: `0x${'ab'.repeat(32)}`, network: receiptNetwork(1, requirement), payer: '0x1' };
    expect(decodePaymentResponseHeader(encodeReceipt(receipt))).toEqual(receipt);
    expect(receipt.network).toBe('base-sepolia');
    expect(receiptNetwork(2, requirement)).toBe('eip155:84532');
    expect(receiptHeaderName(1)).toBe('X-PAYMENT-RESPONSE');
    expect(receiptHeaderName(2)).toBe('PAYMENT-RESPONSE');
  });

  it('passes unknown reason codes through untouched and cuts free text to 200 characters', () => {
    expect(facilitatorReasonForBuyer('some_new_reason_v3')).toBe('some_new_reason_v3');
    const text = `execution reverted: ${'x'.repeat(400)}`;
    expect(facilitatorReasonForBuyer(text)).toHaveLength(200);
    expect(facilitatorReasonForBuyer('short message.')).toBe('short message.');
  });
});
