import { z } from 'zod';
import type { CatalogSnapshot } from '../snapshot.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';

/**
 * `/api/services.json` (SPEC §4.1). Pure-additive drain: an active entry never carries
 * `drainEndsAt` or `available`; a draining entry adds exactly `drainEndsAt`.
 */

export const SERVICES_DOCUMENT_SCHEMA_VERSION = '1';

const rfc3339Utc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

export const ServiceEntry = z
  .strictObject({
    name: z.string().min(1),
    namespace: z.string().min(1),
    type: z.enum(['inference', 'fine-tuning', 'http', 'agent']),
    model: z.string().optional().meta({ description: 'spec.model.name, when set' }),
    endpoint: z.string().regex(/^https?:\/\//).meta({ description: 'Absolute URL of the paid route' }),
    price: z.string().meta({ description: 'Display string, e.g. "0.001 USDC/request"' }),
    priceRaw: z.string().regex(/^[0-9]+(\.[0-9]+)?$/).meta({ description: 'The price as written in the offer' }),
    priceUnit: z.enum(['perRequest', 'perMTok', 'perHour']),
    priceAtomicUnits: z.string().regex(/^[1-9][0-9]*$/).meta({ description: 'Atomic units the 402 demands per request' }),
    payTo: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    network: z.string().meta({ description: 'spec.payment.network as written' }),
    caip2Network: z.string().regex(/^eip155:[1-9][0-9]*$/),
    chainId: z.number().int().positive(),
    asset: z.strictObject({
      address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      symbol: z.string().optional(),
      decimals: z.number().int().min(0),
      transferMethod: z.literal('eip3009'),
      eip712Domain: z.strictObject({ name: z.string(), version: z.string() }),
    }),
    description: z.string(),
    skills: z.array(z.string()).optional(),
    drainEndsAt: rfc3339Utc.optional().meta({ description: 'Present only while the offer drains: when its route closes' }),
  })
  .meta({ title: 'ServiceEntry' });
export type ServiceEntry = z.infer<typeof ServiceEntry>;

export const ServicesDocument = z
  .strictObject({
    schemaVersion: z.literal(SERVICES_DOCUMENT_SCHEMA_VERSION),
    services: z.array(ServiceEntry),
  })
  .meta({
    title: 'Obol Edge service catalog',
    description: 'The x402 payment-gated services an Obol edge publishes (/api/services.json).',
  });
export type ServicesDocument = z.infer<typeof ServicesDocument>;

function serviceEntry(listed: ListedOffer, baseUrl: string): ServiceEntry {
  const { offer, requirement } = listed;
  const { asset } = requirement;
  return {
    name: offer.name,
    namespace: offer.namespace,
    type: offer.type,
    ...(offer.model !== undefined ? { model: offer.model } : {}),
    endpoint: absoluteUrl(baseUrl, offer.path),
    price: offer.price.display,
    priceRaw: offer.price.raw,
    priceUnit: offer.price.unit,
    priceAtomicUnits: requirement.amount,
    payTo: requirement.payTo,
    network: offer.network,
    caip2Network: requirement.network,
    chainId: requirement.chainId,
    asset: {
      address: asset.address,
      ...(asset.symbol !== undefined ? { symbol: asset.symbol } : {}),
      decimals: asset.decimals,
      transferMethod: asset.transferMethod,
      eip712Domain: { name: asset.eip712Domain.name, version: asset.eip712Domain.version },
    },
    description: offer.description,
    ...(offer.skills?.length ? { skills: [...offer.skills] } : {}),
    // The only key a drain adds; consumers detect a drain by its presence.
    ...(listed.drainEndsAt !== undefined ? { drainEndsAt: listed.drainEndsAt } : {}),
  };
}

export function renderServicesDocument(params: { snapshot: Pick<CatalogSnapshot, 'offers'>; baseUrl: string; nowMs: number }): ServicesDocument {
  return {
    schemaVersion: SERVICES_DOCUMENT_SCHEMA_VERSION,
    services: listedOffers(params.snapshot, params.nowMs).map((listed) => serviceEntry(listed, params.baseUrl)),
  };
}

/** The exact bytes served: two-space indented JSON and a final newline. */
export function serializeServicesDocument(document: ServicesDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The JSON Schema of the document, as committed in `docs/services.schema.json` and served by the edge. */
export function servicesJsonSchema(): string {
  const schema = z.toJSONSchema(ServicesDocument, { target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
