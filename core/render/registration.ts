import { z } from 'zod';
import { Registration8004, type CatalogSnapshot, type SnapshotOffer } from '../snapshot.js';
import { CATALOG_PAGE_PATH, OPENAPI_PATH, REGISTRATION_PATH, SERVICES_PATH, SKILL_PATH } from './document-paths.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';
import { SERVICES_DOCUMENT_SCHEMA_VERSION } from './services-json.js';

/**
 * `/.well-known/agent-registration.json`, the ERC-8004 registration file (SPEC §4.3). With no offer
 * published for registration it is a tombstone (`active:false`, no services), never a 404.
 */

export const REGISTRATION_TYPE = 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1';
export const OASF_VERSION = '0.8';

/** Keys only the drain may set on a `web` or custom entry; stripped from what the seller wrote. */
const DRAIN_KEYS: ReadonlySet<string> = new Set(['available', 'drainEndsAt']);

const rfc3339Utc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

export const RegistrationServiceEntry = z
  .object({
    name: z.string().min(1).meta({ description: '"web", "OASF", a catalog document ("catalog", "skill", "OpenAPI") or a name the seller chose' }),
    endpoint: z.string().min(1).meta({ description: 'Where the service is reached: an absolute URL, or what a seller wrote for its own entry (an ENS name, a DID, …)' }),
    version: z.string().optional(),
    skills: z.array(z.string()).optional().meta({ description: 'OASF entries: skill taxonomy paths' }),
    domains: z.array(z.string()).optional().meta({ description: 'OASF entries: domain taxonomy paths' }),
    available: z.literal(false).optional().meta({ description: 'Present only while the offer behind the entry drains' }),
    drainEndsAt: rfc3339Utc.optional().meta({ description: 'Present only while the offer behind the entry drains: when its route closes' }),
  })
  // A seller's own entry may carry further string or string-list fields (core RegistrationService).
  .catchall(z.union([z.string(), z.array(z.string())]))
  .meta({ title: 'RegistrationServiceEntry' });
/** Written by hand: TypeScript cannot give `available: false` beside an index signature of strings. */
export type RegistrationServiceEntry = Readonly<Record<string, string | boolean | readonly string[]>> & { readonly name: string; readonly endpoint: string };

export const RegistrationDocument = z
  .strictObject({
    type: z.literal(REGISTRATION_TYPE),
    name: z.string().min(1),
    description: z.string(),
    image: z.string().optional(),
    services: z.array(RegistrationServiceEntry),
    x402Support: z.boolean(),
    active: z.boolean().meta({ description: 'false: a tombstone, nothing is published for registration' }),
    registrations: z.array(Registration8004.strict()),
    supportedTrust: z.array(z.string()).optional(),
  })
  .meta({
    title: 'Obol Edge ERC-8004 registration file',
    description: 'The agent registration file an Obol edge serves at /.well-known/agent-registration.json (ERC-8004 registration-v1).',
  });
export type RegistrationDocument = Omit<z.infer<typeof RegistrationDocument>, 'services'> & { readonly services: readonly RegistrationServiceEntry[] };

/** The catalog documents, listed so a liveness probe of the file finds pages that answer 200, not only paid routes' 402. */
function catalogDocumentServices(baseUrl: string): RegistrationServiceEntry[] {
  return [
    { name: 'web', endpoint: absoluteUrl(baseUrl, CATALOG_PAGE_PATH) },
    { name: 'catalog', endpoint: absoluteUrl(baseUrl, SERVICES_PATH), version: SERVICES_DOCUMENT_SCHEMA_VERSION },
    { name: 'skill', endpoint: absoluteUrl(baseUrl, SKILL_PATH) },
    { name: 'OpenAPI', endpoint: absoluteUrl(baseUrl, OPENAPI_PATH) },
  ];
}

/** A seller's endpoint that is a path (`/services/x/…`) names a page of this edge. */
function sellerEndpoint(endpoint: string, baseUrl: string): string {
  return endpoint.startsWith('/') && !endpoint.startsWith('//') ? absoluteUrl(baseUrl, endpoint) : endpoint;
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
    // The record (skills, domains) is read in this file itself; it describes capabilities, so it carries no drain keys.
    const endpoint = absoluteUrl(baseUrl, REGISTRATION_PATH);
    entries.push({ name: 'OASF', endpoint, version: OASF_VERSION, skills: [...(skills ?? [])], domains: [...(domains ?? [])] });
  }
  for (const custom of offer.registration.services) {
    const own = Object.fromEntries(Object.entries(custom).filter(([key]) => !DRAIN_KEYS.has(key)));
    entries.push({ ...own, name: custom.name, endpoint: sellerEndpoint(custom.endpoint, baseUrl), ...drain });
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
    services: live ? [...catalogDocumentServices(params.baseUrl), ...registered.flatMap((listed) => offerServices(listed, params.baseUrl))] : [],
    x402Support: live,
    active: live,
    registrations: identity.registrations.map((r) => ({ agentId: r.agentId, agentRegistry: r.agentRegistry })),
    ...(identity.supportedTrust?.length ? { supportedTrust: [...identity.supportedTrust] } : {}),
  };
}

export function serializeRegistrationDocument(document: RegistrationDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The JSON Schema of the file, as committed in `docs/agent-registration.schema.json` and served beside it. */
export function registrationJsonSchema(): string {
  const schema = z.toJSONSchema(RegistrationDocument, { target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
