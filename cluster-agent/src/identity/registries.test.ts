import { DEFAULT_REGISTRIES } from 'agent0-sdk';
import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { Registration8004 } from '../../../core/snapshot.js';
import { agentRegistryId, parseAgentRegistryId, PUBLIC_IDENTITY_REGISTRIES, publicIdentityRegistry, sameAgentRegistry } from './registries.js';

describe('PUBLIC_IDENTITY_REGISTRIES', () => {
  it('one entry per chain, checksummed addresses, the mainnet or the testnet deployment', () => {
    const ids = PUBLIC_IDENTITY_REGISTRIES.map((r) => r.chainId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of PUBLIC_IDENTITY_REGISTRIES) {
      expect(getAddress(r.identityRegistry)).toBe(r.identityRegistry);
      expect(['0x8004A169FB4a3325136EB29fA0ceB6D2e539a432', '0x8004A818BFB912233c491871b3d84c89A494BD9e']).toContain(r.identityRegistry);
    }
    expect(publicIdentityRegistry(84532)?.identityRegistry).toBe('0x8004A818BFB912233c491871b3d84c89A494BD9e');
    expect(publicIdentityRegistry(8453)?.identityRegistry).toBe('0x8004A169FB4a3325136EB29fA0ceB6D2e539a432');
    expect(publicIdentityRegistry(31337)).toBeUndefined();
  });

  it('agrees with agent0-sdk (an ERC-8004 SDK we did not write) on every chain both list', () => {
    const theirs = Object.entries(DEFAULT_REGISTRIES as Record<string, { IDENTITY?: string }>);
    expect(theirs.length).toBeGreaterThan(0);
    for (const [chainId, { IDENTITY }] of theirs) {
      const ours = publicIdentityRegistry(Number(chainId));
      expect(ours, `chain ${chainId}`).toBeDefined();
      expect(ours?.identityRegistry.toLowerCase(), `chain ${chainId}`).toBe(IDENTITY?.toLowerCase());
    }
  });
});

describe('CAIP-10 registry ids', () => {
  it('agentRegistryId writes eip155:<chainId>:<checksummed address>, which the snapshot schema accepts', () => {
    const id = agentRegistryId(84532, '0x8004a818bfb912233c491871b3d84c89a494bd9e');
    expect(id).toBe('eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e');
    expect(Registration8004.safeParse({ agentId: 1, agentRegistry: id }).success).toBe(true);
    expect(parseAgentRegistryId(id)).toEqual({ chainId: 84532, registry: '0x8004A818BFB912233c491871b3d84c89A494BD9e' });
  });

  it('parses only eip155 ids with a chain and a 20-byte address; compares addresses case-insensitively', () => {
    for (const bad of ['eip155:84532', 'eip155:0:0x8004A818BFB912233c491871b3d84c89A494BD9e', 'solana:1:abc', 'eip155:1:0x1234']) expect(parseAgentRegistryId(bad), bad).toBeUndefined();
    expect(sameAgentRegistry('eip155:1:0x8004a169fb4a3325136eb29fa0ceb6d2e539a432', 'eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432')).toBe(true);
    expect(sameAgentRegistry('eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432', 'eip155:8453:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432')).toBe(false);
    expect(sameAgentRegistry('nonsense', 'nonsense')).toBe(false);
  });
});
