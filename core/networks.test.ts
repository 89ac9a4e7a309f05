import { describe, expect, it } from 'vitest';
import { NETWORKS, resolveNetwork } from './networks.js';

describe('resolveNetwork', () => {
  it('maps names to CAIP-2 and back', () => {
    const table = [['base', 'eip155:8453', 8453], ['base-sepolia', 'eip155:84532', 84532], ['ethereum', 'eip155:1', 1]] as const;
    for (const [name, caip2, chainId] of table) {
      expect(resolveNetwork(name)).toMatchObject({ v1Name: name, caip2, chainId });
      expect(resolveNetwork(caip2)).toMatchObject({ v1Name: name, caip2, chainId });
    }
  });

  it('knows each chain\'s USDC with 6 decimals; Base Sepolia signs as "USDC", the others as "USD Coin"', () => {
    expect(resolveNetwork('base-sepolia')?.usdc).toEqual({
      address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', symbol: 'USDC', decimals: 6, eip712Name: 'USDC', eip712Version: '2',
    });
    expect(resolveNetwork('base')?.usdc).toMatchObject({ address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', eip712Name: 'USD Coin', eip712Version: '2' });
    expect(resolveNetwork('ethereum')?.usdc).toMatchObject({ address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', eip712Name: 'USD Coin' });
    expect(NETWORKS.every((n) => n.usdc.decimals === 6)).toBe(true);
  });

  it('resolves an unknown CAIP-2 chain without a v1 name or default asset', () => {
    expect(resolveNetwork('eip155:10')).toEqual({ caip2: 'eip155:10', chainId: 10 });
  });

  it('does not resolve unknown names or malformed ids', () => {
    for (const value of ['solana', 'Base', 'eip155:', 'eip155:0', 'eip155:01', 'eip155:99999999999999999999', '']) {
      expect(resolveNetwork(value), value).toBeUndefined();
    }
  });
});
