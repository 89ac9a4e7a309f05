import type { CatalogSnapshot, SnapshotOffer } from '../snapshot.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';

/**
 * `/.well-known/agent-registration.json`, the ERC-8004 registration file (SPEC §4.3). With no offer
 * published for registration it is a tombstone (`active:false`, no services), never a 404.
 */

export const REGISTRATION_TYPE = 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1';
export const OASF_VERSION = '0.8';

/** Keys only the drain may set on a `web` or custom entry; stripped from what the seller wrote. */
const DRAIN_KEYS: ReadonlySet<string> = new Set(['available', 'drainEndsAt']);

export type RegistrationServiceEntry = Readonly<Record<string, string | boolean | readonly string[]>>;

export interface RegistrationDocument {
  readonly type: typeof REGISTRATION_TYPE;
  readonly name: string;
  readonly description: string;
  readonly image?: string;
  readonly services: readonly RegistrationServiceEntry[];
  readonly x402Support: boolean;
  readonly active: boolean;
  readonly registrations: readonly { readonly agentId: number; readonly agentRegistry: string }[];
  readonly supportedTrust?: readonly string[];
}

export interface AgentCard {
  readonly name: string;
  readonly description: string;
  readonly image?: string;
}

type RegisteredOffer = ListedOffer & { readonly offer: SnapshotOffer & { registration: NonNullable<SnapshotOffer['registration']> } };

/** Published offers with `registration.enabled`, in (namespace, name) order. */
export function registeredOffers(snapshot: Pick<CatalogSnapshot, 'offers'>, nowMs: number): RegisteredOffer[] {
  return listedOffers(snapshot, nowMs).filter((listed): listed is RegisteredOffer => listed.offer.registration !== undefined);
}

/** Identity first, then the first registered offer, then the edge's own host (documented in docs/discovery.md). */
export function agentCard(params: { snapshot: Pick<CatalogSnapshot, 'identity' | 'offers'>; baseUrl: string; nowMs: number }): AgentCard {
  const { identity } = params.snapshot;
  const first = registeredOffers(params.snapshot, params.nowMs)[0]?.offer;
  const name = identity.name ?? first?.registration.name ?? first?.name ?? new URL(params.baseUrl).host;
  const description =
    identity.description ?? first?.registration.description ?? first?.description ?? `x402 payment-gated services at ${params.baseUrl}`;
  const image = identity.image ?? first?.registration.image;
  return { name, description, ...(image !== undefined ? { image } : {}) };
}

function drainKeys(listed: ListedOffer): Record<string, string | boolean> {
  return listed.drainEndsAt !== undefined ? { available: false, drainEndsAt: listed.drainEndsAt } : {};
}

function offerServices(listed: RegisteredOffer, baseUrl: string): RegistrationServiceEntry[] {
  const { offer } = listed;
  const drain = drainKeys(listed);
  const entries: RegistrationServiceEntry[] = [{ name: 'web', endpoint: absoluteUrl(baseUrl, offer.path), ...drain }];
  const { skills, domains } = offer.registration;
  if (skills?.length || domains?.length) {
    // OASF entries describe capabilities, not a reachable endpoint: they never carry drain keys.
    entries.push({ name: 'OASF', version: OASF_VERSION, skills: [...(skills ?? [])], domains: [...(domains ?? [])] });
  }
  for (const custom of offer.registration.services) {
    const own = Object.fromEntries(Object.entries(custom).filter(([key]) => !DRAIN_KEYS.has(key)));
    entries.push({ ...own, ...drain });
  }
  return entries;
}

export function renderRegistrationDocument(params: {
  snapshot: Pick<CatalogSnapshot, 'identity' | 'offers'>;
  baseUrl: string;
  nowMs: number;
}): RegistrationDocument {
  const { identity } = params.snapshot;
  const registered = registeredOffers(params.snapshot, params.nowMs);
  const live = registered.length > 0;
  return {
    type: REGISTRATION_TYPE,
    ...agentCard(params),
    services: registered.flatMap((listed) => offerServices(listed, params.baseUrl)),
    x402Support: live,
    active: live,
    registrations: identity.registrations.map((r) => ({ agentId: r.agentId, agentRegistry: r.agentRegistry })),
    ...(identity.supportedTrust?.length ? { supportedTrust: [...identity.supportedTrust] } : {}),
  };
}

export function serializeRegistrationDocument(document: RegistrationDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
