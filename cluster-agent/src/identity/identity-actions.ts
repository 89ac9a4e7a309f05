import type { Address, Hex, LocalAccount } from 'viem';
import { agentUriFor, pointsAtEdge } from './agent-uri.js';
import { openIdentityFile, registrationFor, storeRegistration, type Registration } from './identity-file.js';
import { sameAgentRegistry } from './registries.js';
import { readAgent, registerAgent, updateAgentUri, type IdentityRegistryTarget, type OnChainAgent } from './registry-client.js';

/**
 * `obol-edge identity register|update|show` as functions over a connected registry: the chain is
 * the source of `{agentId, agentRegistry}` and the identity file the agent pushes receives it. The
 * identity file is validated (and checked writable) before any transaction; a write that still
 * fails afterwards reports the registration so it is never lost.
 */

export type IdentityActionErrorReason = 'already_registered' | 'agent_id_unknown' | 'identity_not_stored' | 'agent_uri_mismatch';

export class IdentityActionError extends Error {
  constructor(readonly reason: IdentityActionErrorReason, message: string) {
    super(message);
    this.name = 'IdentityActionError';
  }
}

export interface StoredRegistration extends Registration {
  readonly agentURI: string;
  readonly owner: Address;
  /** Absent when nothing had to be sent. */
  readonly transactionHash?: Hex;
  readonly identityFile: string;
  readonly identityFileChanged: boolean;
}

async function store(identityFile: string, registration: Registration, how: string): Promise<boolean> {
  try {
    return (await storeRegistration(identityFile, registration)).changed;
  } catch (error) {
    throw new IdentityActionError('identity_not_stored', `${how}, but ${identityFile} could not be written (${(error as Error).message}): it is agent ${registration.agentId} in ${registration.agentRegistry}; store it with "obol-edge identity update --agent-id ${registration.agentId} …" once the file is writable`);
  }
}

/** Whether the registry holds `agentId` (ownerOf answers). */
export function agentExists(target: IdentityRegistryTarget, agentId: number): Promise<boolean> {
  return readAgent(target, agentId).then(() => true, (error: unknown) => {
    if ((error as { reason?: unknown }).reason === 'agent_not_found') return false;
    throw error;
  });
}

/** After storing: the chain must now say what was sent (a registry that ignores it is reported, the registration kept). */
function assertAgentUri(registration: Registration, onChain: string, wanted: string): void {
  if (onChain !== wanted) {
    throw new IdentityActionError('agent_uri_mismatch', `agent ${registration.agentId} in ${registration.agentRegistry} is stored, but its agentURI reads "${onChain}", not ${wanted}`);
  }
}

export interface RegisterParams {
  readonly target: IdentityRegistryTarget;
  readonly account: LocalAccount;
  readonly publicUrl: string;
  readonly identityFile: string;
}

/** Register a new agent pointing at this edge, then store it in the identity file. */
export async function registerIdentity(params: RegisterParams): Promise<StoredRegistration> {
  const { target, account, identityFile } = params;
  const agentURI = agentUriFor(params.publicUrl);
  const file = await openIdentityFile(identityFile);
  const held = registrationFor(file.identity, target.agentRegistry);
  // An entry naming an agent the registry does not have is stale (e.g. a reset chain) and is replaced.
  if (held && (await agentExists(target, held.agentId))) {
    throw new IdentityActionError('already_registered', `${identityFile} already names agent ${held.agentId} in ${target.agentRegistry}: use "obol-edge identity update" to point it at ${params.publicUrl} (registering again would create a second agent)`);
  }
  const registered = await registerAgent(target, account, agentURI);
  const registration = { agentId: registered.agentId, agentRegistry: target.agentRegistry };
  const identityFileChanged = await store(identityFile, registration, `agent ${registered.agentId} was registered (transaction ${registered.transactionHash})`);
  assertAgentUri(registration, registered.agentURI, agentURI);
  return { ...registration, agentURI, owner: account.address, transactionHash: registered.transactionHash, identityFile, identityFileChanged };
}

export interface UpdateParams extends RegisterParams {
  /** Default: the identity file's registration in this registry. */
  readonly agentId?: number;
}

function agentIdFrom(agentId: number | undefined, held: Registration | undefined, target: IdentityRegistryTarget, where: string): number {
  if (agentId !== undefined) return agentId;
  if (held) return held.agentId;
  throw new IdentityActionError('agent_id_unknown', `${where} names no agent in ${target.agentRegistry}: pass --agent-id <n> (or register first)`);
}

/** Point an existing agent's agentURI at this edge (if it does not already), then store it. */
export async function updateIdentity(params: UpdateParams): Promise<StoredRegistration> {
  const { target, account, identityFile } = params;
  const agentURI = agentUriFor(params.publicUrl);
  const file = await openIdentityFile(identityFile);
  const agentId = agentIdFrom(params.agentId, registrationFor(file.identity, target.agentRegistry), target, identityFile);
  const update = await updateAgentUri(target, account, agentId, agentURI);
  const registration = { agentId, agentRegistry: target.agentRegistry };
  const how = update.transactionHash ? `agent ${agentId} now points at ${agentURI} (transaction ${update.transactionHash})` : `agent ${agentId} already points at ${agentURI}`;
  const identityFileChanged = await store(identityFile, registration, how);
  assertAgentUri(registration, update.agentURI, agentURI);
  const owner = (await readAgent(target, agentId)).owner;
  return { ...registration, agentURI, owner, ...(update.transactionHash ? { transactionHash: update.transactionHash } : {}), identityFile, identityFileChanged };
}

export type FileCheck =
  | { readonly state: 'lists_agent' }
  | { readonly state: 'missing_agent'; readonly registrations: readonly unknown[] }
  | { readonly state: 'unreachable'; readonly detail: string };

export interface ShownAgent extends OnChainAgent {
  readonly agentRegistry: string;
  /** Set when a public URL was given: does the on-chain agentURI name this edge's registration file? */
  readonly pointsBack?: boolean;
  readonly expectedAgentURI?: string;
  /** Set when agentURI points back: what the registration file served there says. */
  readonly registrationFile?: FileCheck;
  /** The identity file's agentId in this registry, when it differs from the one shown. */
  readonly identityFileAgentId?: number;
}

export interface ShowParams {
  readonly target: IdentityRegistryTarget;
  readonly agentId?: number;
  readonly identityFile?: string;
  readonly publicUrl?: string;
  readonly fetch?: typeof fetch;
}

/** Does the registration file at `agentURI` list `{agentId, agentRegistry}`? */
async function checkRegistrationFile(agentURI: string, registration: Registration, fetcher: typeof fetch): Promise<FileCheck> {
  try {
    const res = await fetcher(agentURI, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
    if (!res.ok) {
      await res.body?.cancel();
      return { state: 'unreachable', detail: `HTTP ${res.status}` };
    }
    const body = (await res.json()) as { registrations?: unknown };
    const registrations = Array.isArray(body.registrations) ? body.registrations : [];
    const listed = registrations.some((r) => {
      const entry = r as Partial<Registration>;
      return entry.agentId === registration.agentId && typeof entry.agentRegistry === 'string' && sameAgentRegistry(entry.agentRegistry, registration.agentRegistry);
    });
    return listed ? { state: 'lists_agent' } : { state: 'missing_agent', registrations };
  } catch (error) {
    return { state: 'unreachable', detail: (error as Error).message };
  }
}

/** What the chain holds for the agent, and whether it points back at this edge. */
export async function showIdentity(params: ShowParams): Promise<ShownAgent> {
  const { target } = params;
  const held = params.identityFile ? registrationFor((await openIdentityFile(params.identityFile)).identity, target.agentRegistry) : undefined;
  const agentId = agentIdFrom(params.agentId, held, target, params.identityFile ?? 'no --identity file');
  const agent = await readAgent(target, agentId);
  const shown: ShownAgent = {
    ...agent,
    agentRegistry: target.agentRegistry,
    ...(held && held.agentId !== agentId ? { identityFileAgentId: held.agentId } : {}),
  };
  if (params.publicUrl === undefined) return shown;
  const expectedAgentURI = agentUriFor(params.publicUrl);
  const pointsBack = pointsAtEdge(agent.agentURI, params.publicUrl);
  if (!pointsBack) return { ...shown, pointsBack, expectedAgentURI };
  const registrationFile = await checkRegistrationFile(agent.agentURI, { agentId, agentRegistry: target.agentRegistry }, params.fetch ?? fetch);
  return { ...shown, pointsBack, expectedAgentURI, registrationFile };
}
