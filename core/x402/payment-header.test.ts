import { encodePaymentSignatureHeader } from '@x402/core/http';
import { describe, expect, it } from 'vitest';
import { encodePayment, signPayment, testRequirement } from '../../test/support/payments.js';
import { InvalidPaymentHeaderError, MAX_PAYMENT_HEADER_CHARS, parsePaymentHeader } from './payment-header.js';

const requirement = testRequirement();

function rejects(headers: { xPayment?: string; paymentSignature?: string }, message: RegExp): void {
  let caught: unknown;
  try {
    parsePaymentHeader(headers);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidPaymentHeaderError);
  expect((caught as InvalidPaymentHeaderError).reason).toBe('invalid_payment_header');
  expect((caught as Error).message).toMatch(message);
}

describe('parsePaymentHeader', () => {
  it('decodes a v2 PAYMENT-SIGNATURE as the official client encodes it', async () => {
    const payment = await signPayment({ requirement, version: 2 });
    const header = encodePaymentSignatureHeader(payment as Parameters<typeof encodePaymentSignatureHeader>[0]);
    expect(parsePaymentHeader({ paymentSignature: header })).toEqual(payment);
  });

  it('decodes a v1 X-PAYMENT', async () => {
    const payment = await signPayment({ requirement, version: 1 });
    expect(parsePaymentHeader({ xPayment: encodePayment(payment) })).toEqual(payment);
  });

  it('rejects garbage, URL-safe or unpadded base64', () => {
    rejects({ paymentSignature: 'not base64!!' }, /not standard base64/);
    rejects({ paymentSignature: '' }, /not standard base64/);
    rejects({ paymentSignature: btoa('{"x402Version":2}??>').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') + '_' }, /not standard base64/);
    rejects({ paymentSignature: 'eyJh' + 'Yg' }, /not standard base64/);
  });

  it('rejects base64 of something that is not JSON or not UTF-8', () => {
    rejects({ paymentSignature: btoa('hello, world') }, /not JSON/);
    rejects({ paymentSignature: btoa('\xff\xfe{') }, /not UTF-8/);
  });

  it('rejects JSON of the wrong shape', async () => {
    rejects({ paymentSignature: encodePayment({ x402Version: 2, accepted: {}, payload: {} }) }, /does not fit/);
    const payment = await signPayment({ requirement, version: 2 });
    const broken = { ...payment, payload: { ...payment.payload, authorization: { ...payment.payload.authorization, value: '-1' } } };
    rejects({ paymentSignature: encodePayment(broken) }, /^PAYMENT-SIGNATURE does not fit the x402 v2 exact-EVM payload:\n✖ .+\n {2}→ at payload\.authorization\.value$/);
    rejects({ paymentSignature: encodePayment([1, 2]) }, /x402Version 2/);
  });

  it('names the fields of a wrong shape in at most 300 characters', () => {
    const header = { xPayment: encodePayment({ x402Version: 1, payload: {} }) };
    rejects(header, /^X-PAYMENT does not fit the x402 v1 exact-EVM payload:\n✖ .+\n {2}→ at scheme\n/);
    expect(() => parsePaymentHeader(header)).toThrow(expect.objectContaining({ message: expect.stringMatching(/^[^]{100,300}$/) }));
  });

  it('rejects a header larger than 16 KiB before decoding it', () => {
    rejects({ paymentSignature: 'A'.repeat(MAX_PAYMENT_HEADER_CHARS + 4) }, /larger than 16384/);
  });

  it('rejects a version that does not match its header, both ways', async () => {
    const v1 = await signPayment({ requirement, version: 1 });
    const v2 = await signPayment({ requirement, version: 2 });
    rejects({ paymentSignature: encodePayment(v1) }, /PAYMENT-SIGNATURE must carry x402Version 2, got 1/);
    rejects({ xPayment: encodePayment(v2) }, /X-PAYMENT must carry x402Version 1, got 2/);
  });

  it('rejects a request carrying both headers', async () => {
    const v2 = await signPayment({ requirement, version: 2 });
    rejects({ xPayment: encodePayment(v2), paymentSignature: encodePayment(v2) }, /not both/);
  });
});
