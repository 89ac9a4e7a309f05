import { describe, expect, it } from 'vitest';
import { signPayment, testRequirement } from '../../test/support/payments.js';
import { matchPayment, selectRequirement } from './match.js';

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

describe('selectRequirement', () => {
  const base = testRequirement({ network: 'eip155:8453', v1Network: 'base', chainId: 8453, asset: { ...requirement.asset, address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', eip712Domain: { name: 'USD Coin', version: '2' } } });
  const baseOther = testRequirement({ network: 'eip155:8453', v1Network: 'base', chainId: 8453, asset: { ...requirement.asset, address: '0x2222222222222222222222222222222222222222' } });
  const options = [requirement, base, baseOther] as const;

  it('picks the option with the payment\'s network and asset (v2), the same object the offer lists', async () => {
    expect(selectRequirement(await signPayment({ requirement: base, version: 2 }), options)).toEqual({ ok: true, requirement: base });
    const chosen = selectRequirement(await signPayment({ requirement: baseOther, version: 2 }), options);
    expect(chosen.ok && chosen.requirement).toBe(baseOther);
  });

  it('gives v1 the first option with its network name (v1 payloads carry no asset)', async () => {
    const chosen = selectRequirement(await signPayment({ requirement: base, version: 1 }), options);
    expect(chosen.ok && chosen.requirement).toBe(base);
  });

  it('refuses a payment for an option not listed with the reason for its closest option', async () => {
    const unlisted = await signPayment({ requirement: base, version: 2, accepted: { asset: '0x3333333333333333333333333333333333333333' } });
    expect(selectRequirement(unlisted, options)).toEqual({ ok: false, reason: 'payment_requirements_mismatch' });
    const otherChain = await signPayment({ requirement: base, version: 2, accepted: { network: 'eip155:1' } });
    expect(selectRequirement(otherChain, options)).toEqual({ ok: false, reason: 'invalid_exact_evm_network_mismatch' });
  });

  it('with one option answers exactly as matchPayment', async () => {
    const payment = await signPayment({ requirement, version: 2, accepted: { amount: '1' } });
    expect(selectRequirement(payment, [requirement])).toEqual(matchPayment(payment, requirement));
  });
});
