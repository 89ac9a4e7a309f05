import { describe, expect, it } from 'vitest';
import { signPayment, testRequirement } from '../../test/support/payments.js';
import { matchPayment } from './match.js';

const requirement = testRequirement();

describe('matchPayment', () => {
  it('accepts a v2 payment whose accepted equals the advertised requirement, extra may add keys', async () => {
    expect(matchPayment(await signPayment({ requirement, version: 2 }), requirement)).toEqual({ ok: true });
    const extended = await signPayment({ requirement, version: 2, accepted: { extra: { name: 'USDC', version: '2', hint: 1 } } });
    expect(matchPayment(extended, requirement)).toEqual({ ok: true });
  });

  it.each([
    ['scheme', { scheme: 'upto' }, 'invalid_exact_evm_scheme'],
    ['network', { network: 'eip155:8453' }, 'invalid_exact_evm_network_mismatch'],
    ['amount', { amount: '1' }, 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['payTo', { payTo: '0x0000000000000000000000000000000000000001' }, 'invalid_exact_evm_recipient_mismatch'],
    ['extra.name', { extra: { name: 'USD Coin', version: '2' } }, 'invalid_exact_evm_token_name_mismatch'],
    ['extra without version', { extra: { name: 'USDC' } }, 'invalid_exact_evm_token_version_mismatch'],
    ['extra.name that is not a string', { extra: { name: ['USDC'], version: '2' } }, 'invalid_exact_evm_token_name_mismatch'],
    ['extra.version as a number', { extra: { name: 'USDC', version: 2 } }, 'invalid_exact_evm_token_version_mismatch'],
    ['asset', { asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' }, 'payment_requirements_mismatch'],
    ['maxTimeoutSeconds', { maxTimeoutSeconds: 60 }, 'payment_requirements_mismatch'],
  ])('rejects a v2 accepted with a different %s', async (_field, accepted, reason) => {
    const payment = await signPayment({ requirement, version: 2, accepted });
    expect(matchPayment(payment, requirement)).toEqual({ ok: false, reason });
  });

  it('matches v1 on scheme and network only', async () => {
    expect(matchPayment(await signPayment({ requirement, version: 1 }), requirement)).toEqual({ ok: true });
    const wrongScheme = await signPayment({ requirement, version: 1, envelope: { scheme: 'upto' } });
    expect(matchPayment(wrongScheme, requirement)).toEqual({ ok: false, reason: 'invalid_exact_evm_scheme' });
    const wrongNetwork = await signPayment({ requirement, version: 1, envelope: { network: 'base' } });
    expect(matchPayment(wrongNetwork, requirement)).toEqual({ ok: false, reason: 'invalid_exact_evm_network_mismatch' });
  });

  it('refuses any v1 payment for a chain without a v1 name', async () => {
    const v2Only = testRequirement({ network: 'eip155:999999', chainId: 999999 });
    delete v2Only.v1Network;
    const payment = await signPayment({ requirement: v2Only, version: 1, envelope: { network: 'eip155:999999' } });
    expect(matchPayment(payment, v2Only)).toEqual({ ok: false, reason: 'invalid_exact_evm_network_mismatch' });
  });
});
