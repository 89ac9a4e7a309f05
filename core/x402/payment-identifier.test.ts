import { appendPaymentIdentifierToExtensions, isPaymentIdentifierExtension, PAYMENT_IDENTIFIER, validatePaymentIdentifier } from '@x402/extensions/payment-identifier';
import { describe, expect, it } from 'vitest';
import { signPayment, testRequirement } from '../../test/support/payments.js';
import { buildChallenges } from './challenge.js';
import type { PaymentPayload, PaymentPayloadV2 } from './payment-header.js';
import { paymentFingerprint, readPaymentIdentifier } from './payment-identifier.js';

const requirement = testRequirement();
const resourceUrl = 'https://edge.test/services/echo';

async function v2Payment(extension: unknown): Promise<PaymentPayloadV2> {
  const payment = (await signPayment({ requirement, version: 2 })) as PaymentPayloadV2;
  return { ...payment, extensions: { [PAYMENT_IDENTIFIER]: extension } };
}

/** The declaration our 402 sends, as the official client echoes it with an id appended. */
function echoed(id?: string): Record<string, unknown> {
  const { v2 } = buildChallenges({ requirement, resourceUrl, error: 'payment_required' });
  const extensions = structuredClone(v2.extensions);
  if (id !== undefined) appendPaymentIdentifierToExtensions(extensions, id);
  return extensions[PAYMENT_IDENTIFIER] as Record<string, unknown>;
}

describe('the 402 declaration', () => {
  it('is the package\'s own optional declaration, which the official client recognises and appends an id to', () => {
    const extension = echoed('pay_0123456789abcdef');
    expect(isPaymentIdentifierExtension(extension)).toBe(true);
    expect(extension).toMatchObject({ info: { required: false, id: 'pay_0123456789abcdef' }, schema: { properties: { id: { minLength: 16, maxLength: 128 } } } });
  });
});

describe('readPaymentIdentifier', () => {
  it('reads the id the official client appended', async () => {
    expect(readPaymentIdentifier(await v2Payment(echoed('pay_7d5d747be160e280504c099d984bcfe0')))).toEqual({ ok: true, id: 'pay_7d5d747be160e280504c099d984bcfe0' });
  });

  it('finds no identifier when the extension is absent, null, or echoed without an id (as today)', async () => {
    const bare = (await signPayment({ requirement, version: 2 })) as PaymentPayload;
    expect(readPaymentIdentifier(bare)).toEqual({ ok: true });
    expect(readPaymentIdentifier(await v2Payment(null))).toEqual({ ok: true });
    expect(readPaymentIdentifier(await v2Payment(echoed()))).toEqual({ ok: true });
    expect(readPaymentIdentifier(await signPayment({ requirement, version: 1 }))).toEqual({ ok: true });
  });

  // Every case is also put to the package's own validator (in Node, where its Ajv may compile).
  const cases: Array<[string, unknown, boolean]> = [
    ['16 characters, the shortest', { info: { required: false, id: 'a'.repeat(16) } }, true],
    ['128 characters, the longest', { info: { required: true, id: 'A-_9'.repeat(32) } }, true],
    ['15 characters', { info: { required: false, id: 'a'.repeat(15) } }, false],
    ['129 characters', { info: { required: false, id: 'a'.repeat(129) } }, false],
    ['a character outside [A-Za-z0-9_-]', { info: { required: false, id: 'pay_0123456789abc!' } }, false],
    ['a space', { info: { required: false, id: 'pay 0123456789abcdef' } }, false],
    ['a number as id', { info: { required: false, id: 1234567890123456789 } }, false],
    ['no boolean required', { info: { id: 'pay_0123456789abcdef' } }, false],
    ['no info', { id: 'pay_0123456789abcdef' }, false],
    ['a string for the extension', 'pay_0123456789abcdef', false],
  ];
  it.each(cases)('%s: valid = %s, as the extension\'s own validator says', async (_name, extension, valid) => {
    expect(validatePaymentIdentifier(extension).valid).toBe(valid);
    const read = readPaymentIdentifier(await v2Payment(extension));
    expect(read.ok).toBe(valid);
    if (!read.ok) expect(read.message).toContain(`extensions["${PAYMENT_IDENTIFIER}"] is malformed`);
  });
});

describe('paymentFingerprint', () => {
  const target = { method: 'GET', target: '/services/echo?q=1' };

  it('is the same for the same payment however its keys were ordered', async () => {
    const payment = await v2Payment(echoed('pay_0123456789abcdef'));
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(payment).reverse()))) as PaymentPayload;
    expect(await paymentFingerprint({ payment: reordered, ...target })).toBe(await paymentFingerprint({ payment, ...target }));
  });

  it('differs for another authorization, another request target or another method', async () => {
    const payment = await v2Payment(echoed('pay_0123456789abcdef'));
    const other = await v2Payment(echoed('pay_0123456789abcdef'));
    const base = await paymentFingerprint({ payment, ...target });
    expect(await paymentFingerprint({ payment: other, ...target })).not.toBe(base);
    expect(await paymentFingerprint({ payment, method: 'GET', target: '/services/echo?q=2' })).not.toBe(base);
    expect(await paymentFingerprint({ payment, method: 'POST', target: target.target })).not.toBe(base);
  });
});
