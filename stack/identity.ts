/**
 * The local stack's ERC-8004 identity: our IdentityRegistry (stack/identity-registry) deployed on
 * the local chain by its own account, and the demo agent registered there by the seller with
 * agentURI `<edge>/.well-known/agent-registration.json`, through the same functions as
 * `obol-edge identity register|update`, which store `{agentId, agentRegistry}` in the identity file.
 *
 * On a fresh chain the registry always lands at the deployer's first contract address and the
 * demo agent is agentId 1, so `examples/identity.yaml` already names them and storing changes
 * nothing; if it named anything else, the file is corrected and `npm run dev` stops, because the
 * agent has already pushed the old values.
 */
import { createPublicClient, createWalletClient, getContractAddress, http, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { agentExists, registerIdentity, updateIdentity, type StoredRegistration } from '../cluster-agent/src/identity/identity-actions.js';
import { openIdentityFile, registrationFor } from '../cluster-agent/src/identity/identity-file.js';
import { agentRegistryId } from '../cluster-agent/src/identity/registries.js';
import { connectIdentityRegistry } from '../cluster-agent/src/identity/registry-client.js';
import { LOCAL_ACCOUNTS, LOCAL_CHAIN_ID, LOCAL_POLLING_MS, localChain, type LocalAccount } from './chain.js';
import { loadRegistryArtifact } from './identity-registry/compile.js';

/** Anvil's account #4 of the public development mnemonic: it only deploys the registry. */
export const REGISTRY_DEPLOYER = Object.freeze({
  index: 4,
  address: '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65',
  privateKey: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
} as const satisfies LocalAccount);

/** Where the registry lands on a fresh chain: the deployer's first contract. */
export const LOCAL_IDENTITY_REGISTRY: Address = getContractAddress({ from: REGISTRY_DEPLOYER.address, nonce: 0n });
export const LOCAL_AGENT_REGISTRY = agentRegistryId(LOCAL_CHAIN_ID, LOCAL_IDENTITY_REGISTRY);

export class DevIdentityError extends Error {
  constructor(readonly reason: 'registry_deploy_failed' | 'identity_file_corrected', message: string) {
    super(message);
    this.name = 'DevIdentityError';
  }
}

/** Deploy the registry at LOCAL_IDENTITY_REGISTRY (once per chain; a second call finds it there). */
export async function deployIdentityRegistry(rpcUrl: string): Promise<Address> {
  const chain = localChain(rpcUrl);
  const client = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: LOCAL_POLLING_MS });
  const code = await client.getCode({ address: LOCAL_IDENTITY_REGISTRY });
  if (code !== undefined && code !== '0x') return LOCAL_IDENTITY_REGISTRY;
  const artifact = loadRegistryArtifact();
  const deployer = createWalletClient({ chain, transport: http(rpcUrl), account: privateKeyToAccount(REGISTRY_DEPLOYER.privateKey) });
  const hash = await deployer.deployContract({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: LOCAL_POLLING_MS });
  if (receipt.status !== 'success' || receipt.contractAddress?.toLowerCase() !== LOCAL_IDENTITY_REGISTRY.toLowerCase()) {
    throw new DevIdentityError('registry_deploy_failed', `the IdentityRegistry deployment ${hash} ${receipt.status === 'success' ? `landed at ${receipt.contractAddress}, not ${LOCAL_IDENTITY_REGISTRY} (the deployer had sent transactions before)` : 'reverted'}`);
  }
  return LOCAL_IDENTITY_REGISTRY;
}

export interface DevAgentParams {
  readonly rpcUrl: string;
  /** The edge's public URL; the agentURI is its registration file. */
  readonly edgeUrl: string;
  /** The identity file the stack's agent pushes. */
  readonly identityFile: string;
}

/**
 * Deploy the registry and register the demo agent as the seller (or, if the identity file's agent
 * exists on this chain already, point it at this edge). Throws if the identity file had to change.
 */
export async function registerDevAgent(params: DevAgentParams): Promise<StoredRegistration> {
  await deployIdentityRegistry(params.rpcUrl);
  const target = await connectIdentityRegistry({ rpcUrl: params.rpcUrl, registry: LOCAL_IDENTITY_REGISTRY, pollingMs: LOCAL_POLLING_MS });
  const action = { target, account: privateKeyToAccount(LOCAL_ACCOUNTS.seller.privateKey), publicUrl: params.edgeUrl, identityFile: params.identityFile };
  const held = registrationFor((await openIdentityFile(params.identityFile)).identity, target.agentRegistry);
  const stored = held && (await agentExists(target, held.agentId)) ? await updateIdentity(action) : await registerIdentity(action);
  if (stored.identityFileChanged) {
    throw new DevIdentityError('identity_file_corrected', `${params.identityFile} did not name the demo agent the local chain registered; it now names agent ${stored.agentId} in ${stored.agentRegistry}: start the stack again so the agent pushes it`);
  }
  return stored;
}
