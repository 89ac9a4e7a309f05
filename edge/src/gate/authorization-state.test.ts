import { describe, expect, it } from 'vitest';
import type { Env } from '../env.js';
import { ConfigError } from '../env.js';
import { caip2Of, chainRpcUrls } from './authorization-state.js';

const env = (CHAIN_RPC_URLS?: string) => ({ CHAIN_RPC_URLS }) as unknown as Env;

describe('CHAIN_RPC_URLS', () => {
  it('maps CAIP-2 ids to RPC URLs, and is empty when unset', () => {
    expect(chainRpcUrls(env('eip155:84532=http://127.0.0.1:8545, eip155:8453=https://rpc.example/v1?k=a'))).toEqual({
      'eip155:84532': 'http://127.0.0.1:8545',
      'eip155:8453': 'https://rpc.example/v1?k=a',
    });
    expect(chainRpcUrls(env(undefined))).toEqual({});
  });

  it.each(['base=http://x', 'eip155:1', 'eip155:1=ftp://x', 'eip155:0=http://x'])('refuses %s with a ConfigError naming the setting', (value) => {
    expect(() => chainRpcUrls(env(value))).toThrow(ConfigError);
    expect(() => chainRpcUrls(env(value))).toThrow(/CHAIN_RPC_URLS/);
  });

  it('reads a requirement network written as a v1 name or as CAIP-2', () => {
    expect(caip2Of('base-sepolia')).toBe('eip155:84532');
    expect(caip2Of('eip155:84532')).toBe('eip155:84532');
    expect(caip2Of('nowhere')).toBeUndefined();
  });
});
