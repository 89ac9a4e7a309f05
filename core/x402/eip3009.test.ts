import fc from 'fast-check';
import { hashTypedData, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { BUYER, OTHER_KEY, signPayment, testRequirement, type SignOptions } from '../../test/support/payments.js';
import { authorizationDigest, authorizationTypedData, checkAuthorization } from './eip3009.js';
import { hasLowS, recoverSignerAddress } from './secp256k1/recover.js';

const requirement = testRequirement();
const now = 1_790_000_000;

async function check(options: Partial<SignOptions> = {}, acceptUnverifiedContractSignatures = false) {
  const payment = await signPayment({ requirement, version: 2, nowSeconds: now, ...options });
  return checkAuthorization({ payload: payment.payload, requirement, x402Version: payment.x402Version, nowSeconds: now, acceptUnverifiedContractSignatures });
}

describe('checkAuthorization', () => {
  it('accepts a correctly signed exact authorization and names the payer', async () => {
    expect(await check()).toEqual({ ok: true, payer: BUYER.address });
  });

  it.each([
    ['a signature by another key', { signer: OTHER_KEY }, 'invalid_exact_evm_signature'],
    ['a wrong EIP-712 domain name', { domain: { name: 'USD Coin' } }, 'invalid_exact_evm_signature'],
    ['a wrong EIP-712 chain id', { domain: { chainId: 8453 } }, 'invalid_exact_evm_signature'],
    ['a wrong verifying contract', { domain: { verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' } }, 'invalid_exact_evm_signature'],
    ['a wrong recipient', { authorization: { to: '0x0000000000000000000000000000000000000bad' } }, 'invalid_exact_evm_recipient_mismatch'],
    ['an underpayment', { authorization: { value: '999' } }, 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['an overpayment', { authorization: { value: '1001' } }, 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['an expired authorization', { authorization: { validBefore: String(now - 1) } }, 'invalid_exact_evm_payload_authorization_valid_before'],
    ['one expiring within 6 s', { authorization: { validBefore: String(now + 5) } }, 'invalid_exact_evm_payload_authorization_valid_before'],
    ['a not-yet-valid authorization', { authorization: { validAfter: String(now + 1) } }, 'invalid_exact_evm_payload_authorization_valid_after'],
  ])('rejects %s', async (_name, options, reason) => {
    expect(await check(options)).toEqual({ ok: false, reason });
  });

  it('accepts validBefore exactly now + 6 s and validAfter exactly now', async () => {
    expect(await check({ authorization: { validBefore: String(now + 6), validAfter: String(now) } })).toMatchObject({ ok: true });
  });

  it('names the v1 value reason for a v1 underpayment', async () => {
    const payment = await signPayment({ requirement, version: 1, nowSeconds: now, authorization: { value: '1' } });
    const result = await checkAuthorization({ payload: payment.payload, requirement, x402Version: 1, nowSeconds: now, acceptUnverifiedContractSignatures: false });
    expect(result).toEqual({ ok: false, reason: 'invalid_exact_evm_authorization_value' });
  });

  it('leaves longer smart-wallet signatures to the facilitator, refusing them without one', async () => {
    const payment = await signPayment({ requirement, version: 2, nowSeconds: now });
    const payload = { ...payment.payload, signature: `${payment.payload.signature}${'ab'.repeat(40)}` };
    const base = { payload, requirement, x402Version: 2 as const, nowSeconds: now };
    expect(await checkAuthorization({ ...base, acceptUnverifiedContractSignatures: true })).toEqual({ ok: true, payer: BUYER.address });
    expect(await checkAuthorization({ ...base, acceptUnverifiedContractSignatures: false })).toEqual({ ok: false, reason: 'invalid_exact_evm_signature' });
  });

  it('rejects a short or malformed 65-byte signature without throwing', async () => {
    const payment = await signPayment({ requirement, version: 2, nowSeconds: now });
    const short = { ...payment.payload, signature: payment.payload.signature.slice(0, 130) };
    const junk = { ...payment.payload, signature: `0x${'00'.repeat(65)}` };
    for (const payload of [short, junk]) {
      const result = await checkAuthorization({ payload, requirement, x402Version: 2, nowSeconds: now, acceptUnverifiedContractSignatures: true });
      expect(result).toEqual({ ok: false, reason: 'invalid_exact_evm_signature' });
    }
  });
});

describe('signature malleability', () => {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const highS = (signature: string) => {
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130), 16);
    return `0x${signature.slice(2, 66)}${(n - s).toString(16).padStart(64, '0')}${(55 - v).toString(16)}`;
  };

  it('refuses the high-s twin of a valid signature, which recovers the same signer but fails on chain', async () => {
    const payment = await signPayment({ requirement, version: 2, nowSeconds: now });
    const twin = highS(payment.payload.signature);
    const digest = authorizationDigest(payment.payload, requirement);
    expect(digest && recoverSignerAddress(digest, twin as Hex)).toBe(BUYER.address);
    for (const acceptUnverifiedContractSignatures of [true, false]) {
      const result = await checkAuthorization({ payload: { ...payment.payload, signature: twin }, requirement, x402Version: 2, nowSeconds: now, acceptUnverifiedContractSignatures });
      expect(result).toEqual({ ok: false, reason: 'invalid_exact_evm_signature' });
    }
  });

  it('tells low s from high s at the half order', () => {
    const sig = (s: bigint) => `0x${'11'.repeat(32)}${s.toString(16).padStart(64, '0')}1b` as Hex;
    expect(hasLowS(sig(n / 2n))).toBe(true);
    expect(hasLowS(sig(n / 2n + 1n))).toBe(false);
    expect(hasLowS('0x1234' as Hex)).toBe(false);
  });
});

describe('authorizationDigest', () => {
  it('equals viem\'s hashTypedData for any authorization, with the domain separator cached', () => {
    const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
    const uint = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }).map(String);
    const other = { ...requirement, chainId: 8453, asset: { ...requirement.asset, eip712Domain: { name: 'USD Coin', version: '2' } } };
    fc.assert(
      fc.property(hex(20), hex(20), uint, uint, uint, hex(32), fc.boolean(), (from, to, value, validAfter, validBefore, nonce, useOther) => {
        const payload = { signature: '0x', authorization: { from, to, value, validAfter, validBefore, nonce } };
        const r = useOther ? other : requirement;
        expect(authorizationDigest(payload, r)).toBe(hashTypedData(authorizationTypedData(payload, r)));
      }),
      { numRuns: 200 },
    );
  });

  it('has no digest for a number wider than uint256, so such a payment is refused', async () => {
    const payment = await signPayment({ requirement, version: 2, nowSeconds: now });
    const payload = { ...payment.payload, authorization: { ...payment.payload.authorization, validBefore: (2n ** 256n).toString() } };
    expect(authorizationDigest(payload, requirement)).toBeUndefined();
    const result = await checkAuthorization({ payload, requirement, x402Version: 2, nowSeconds: now, acceptUnverifiedContractSignatures: false });
    expect(result).toEqual({ ok: false, reason: 'invalid_exact_evm_signature' });
  });
});
