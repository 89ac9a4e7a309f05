import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SDK } from 'agent0-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredRegistration } from '../../cluster-agent/src/identity/identity-actions.js';
import { LOCAL_CHAIN_ID } from '../../stack/chain.js';
import { LOCAL_AGENT_REGISTRY, LOCAL_IDENTITY_REGISTRY, registerDevAgent } from '../../stack/identity.js';
import type { LocalStack } from '../../stack/local-stack.js';
import { EXAMPLE_IDENTITY, startE2EStack } from './stack-support.js';

/**
 * The dev stack's on-chain identity read back by a reader we did not write: `agent0-sdk` (the
 * ERC-8004 TypeScript SDK) resolves the agentId on the local chain, fetches the registration file
 * the agentURI names (this edge's) and must see what the edge serves. No IPFS, no subgraph: its
 * loadAgent reads tokenURI over the RPC and fetches an http(s) agentURI directly.
 */

/**
 * agent0-sdk 1.7.1 looks a chain's registry up in its built-in table before `registryOverrides`
 * (getIdentityRegistryAddressForChain), so for chain 84532 loadAgent would read the public Base
 * Sepolia registry. This honours the documented override for the local chain and changes nothing
 * else: reading tokenURI, fetching and parsing the file stay the SDK's own.
 */
class LocalRegistrySDK extends SDK {
  override getIdentityRegistryAddressForChain(chainId: number): string {
    return chainId === LOCAL_CHAIN_ID ? LOCAL_IDENTITY_REGISTRY : super.getIdentityRegistryAddressForChain(chainId);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'obol-identity-e2e-'));
const identityFile = join(dir, 'identity.yaml');
let stack: LocalStack;
let stored: StoredRegistration;

interface ServedService { name: string; endpoint?: string; version?: string }
interface ServedFile {
  name: string; description: string; image?: string; services: ServedService[]; active: boolean; x402Support: boolean;
  registrations: { agentId: number; agentRegistry: string }[]; supportedTrust?: string[];
}

async function served(): Promise<ServedFile> {
  const res = await fetch(`${stack.edgeUrl}/.well-known/agent-registration.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as ServedFile;
}

beforeAll(async () => {
  // The stack's agent pushes a copy of the example identity; registration must leave it as it is.
  copyFileSync(EXAMPLE_IDENTITY, identityFile);
  ({ stack } = await startE2EStack({ identityFile }));
  stored = await registerDevAgent({ rpcUrl: stack.rpcUrl, edgeUrl: stack.edgeUrl, identityFile });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe('the demo agent on the local chain', () => {
  it('is agent 1 of our registry, which the example identity names, so the identity file does not change', () => {
    expect(stored).toMatchObject({ agentId: 1, agentRegistry: LOCAL_AGENT_REGISTRY, agentURI: `${stack.edgeUrl}/.well-known/agent-registration.json`, identityFileChanged: false });
    expect(readFileSync(identityFile, 'utf8')).toBe(readFileSync(EXAMPLE_IDENTITY, 'utf8'));
  });

  it('the registration file the edge serves names the agentId the chain assigned', async () => {
    expect((await served()).registrations).toContainEqual({ agentId: stored.agentId, agentRegistry: LOCAL_AGENT_REGISTRY });
  });

  it('registering again on the same chain points the same agent at the edge instead of minting a second one', async () => {
    const again = await registerDevAgent({ rpcUrl: stack.rpcUrl, edgeUrl: stack.edgeUrl, identityFile });
    expect(again).toMatchObject({ agentId: stored.agentId, identityFileChanged: false });
    expect(again.transactionHash).toBeUndefined();
  });

  it('agent0-sdk resolves the agentId on chain to this edge and parses the same file we serve', async () => {
    const config = { chainId: LOCAL_CHAIN_ID, rpcUrl: stack.rpcUrl, registryOverrides: { [LOCAL_CHAIN_ID]: { IDENTITY: LOCAL_IDENTITY_REGISTRY } } };
    // Why LocalRegistrySDK exists; when agent0-sdk honours the override itself, this fails: use SDK directly.
    expect(new SDK(config).getIdentityRegistryAddressForChain(LOCAL_CHAIN_ID)).toBe('0x8004A818BFB912233c491871b3d84c89A494BD9e');
    const sdk = new LocalRegistrySDK(config);
    expect(sdk.identityRegistryAddress()).toBe(LOCAL_IDENTITY_REGISTRY);
    const agentId = `${LOCAL_CHAIN_ID}:${stored.agentId}`;
    const agent = await sdk.loadAgent(agentId);
    const file = await served();

    expect(agent.agentURI).toBe(`${stack.edgeUrl}/.well-known/agent-registration.json`);
    expect((await sdk.getAgentOwner(agentId)).toLowerCase()).toBe(stored.owner.toLowerCase());
    expect((await agent.getWallet())?.toLowerCase()).toBe(stored.owner.toLowerCase());

    const parsed = agent.getRegistrationFile();
    expect({ name: parsed.name, description: parsed.description, image: parsed.image, active: parsed.active, x402support: parsed.x402support })
      .toEqual({ name: file.name, description: file.description, image: file.image, active: file.active, x402support: file.x402Support });
    expect(parsed.trustModels).toEqual(file.supportedTrust ?? []);
    // Every service we serve, and nothing else, as the SDK understood it (name → type, endpoint → value).
    const ours = file.services.map((s) => ({ name: s.name.toLowerCase(), endpoint: s.endpoint ?? '', version: s.version }));
    const theirs = parsed.endpoints.map((e) => ({ name: String(e.type).toLowerCase(), endpoint: e.value, version: e.meta?.version as string | undefined }));
    expect(theirs).toEqual(ours);
    expect(theirs.length).toBeGreaterThan(0);
  });
});
