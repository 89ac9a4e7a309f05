import { z } from 'zod';
import { DEFAULT_MINUTES_PER_REQUEST, DEFAULT_TOKENS_PER_REQUEST } from '../price.js';
import type { PaymentRequirement } from '../requirement.js';
import { paymentOptions, type CatalogSnapshot } from '../snapshot.js';
import { formatAtomicAmount } from '../token-amount.js';
import { listedPriceBasis } from './payment-terms.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';

/**
 * `/api/services.json` (SPEC §4.1). Pure-additive drain: an active entry never carries
 * `drainEndsAt` or `available`; a draining entry adds exactly `drainEndsAt`.
 */

export const SERVICES_DOCUMENT_SCHEMA_VERSION = '1';

const rfc3339Utc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

const TokenAsset = z.strictObject({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  symbol: z.string().optional(),
  decimals: z.number().int().min(0),
  transferMethod: z.literal('eip3009'),
  eip712Domain: z.strictObject({ name: z.string(), version: z.string() }),
});

export const PaymentOptionEntry = z
  .strictObject({
    caip2Network: z.string().regex(/^eip155:[1-9][0-9]*$/),
    v1Network: z.string().optional().meta({ description: 'x402 v1 network name, when the chain has one (v1 clients can pay only such options)' }),
    chainId: z.number().int().positive(),
    priceAtomicUnits: z.string().regex(/^[1-9][0-9]*$/).meta({ description: 'Atomic units the 402 demands per request in this asset' }),
    pricePerRequest: z.string().regex(/^[0-9]+(\.[0-9]+)?$/).meta({ description: 'Token units one request costs in this asset' }),
    payTo: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    asset: TokenAsset,
  })
  .meta({ title: 'PaymentOption' });
export type PaymentOptionEntry = z.infer<typeof PaymentOptionEntry>;

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
    pricePerRequest: z
      .string()
      .regex(/^[0-9]+(\.[0-9]+)?$/)
      .optional()
      .meta({ description: 'Token units one request costs (priceAtomicUnits over 10^asset.decimals), e.g. "0.008" (optional in the schema so documents from older edges stay valid)' }),
    tokensPerRequest: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'priceUnit perMTok only: the tokens one request is assumed to use; the charge per request is priceRaw × tokensPerRequest / 1,000,000' }),
    minutesPerRequest: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'priceUnit perHour only: the minutes one request is assumed to take; the charge per request is priceRaw × minutesPerRequest / 60' }),
    priceBasis: z
      .string()
      .optional()
      .meta({ description: 'perMTok/perHour only: the assumption in words, e.g. "2 USDC per million tokens at 4,000 tokens per request"' }),
    payTo: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    network: z.string().meta({ description: 'spec.payment.network as written' }),
    caip2Network: z.string().regex(/^eip155:[1-9][0-9]*$/),
    chainId: z.number().int().positive(),
    asset: TokenAsset,
    paymentOptions: z
      .array(PaymentOptionEntry)
      .min(2)
      .optional()
      .meta({ description: 'Present only when the offer accepts more than one network/asset: every option in the 402\'s order, the first being the one the flat payTo/caip2Network/chainId/asset/priceAtomicUnits keys describe' }),
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

function tokenAsset(asset: PaymentRequirement['asset']): PaymentOptionEntry['asset'] {
  return {
    address: asset.address,
    ...(asset.symbol !== undefined ? { symbol: asset.symbol } : {}),
    decimals: asset.decimals,
    transferMethod: asset.transferMethod,
    eip712Domain: { name: asset.eip712Domain.name, version: asset.eip712Domain.version },
  };
}

function paymentOptionEntry(requirement: PaymentRequirement): PaymentOptionEntry {
  return {
    caip2Network: requirement.network,
    ...(requirement.v1Network !== undefined ? { v1Network: requirement.v1Network } : {}),
    chainId: requirement.chainId,
    priceAtomicUnits: requirement.amount,
    pricePerRequest: formatAtomicAmount({ amount: requirement.amount, decimals: requirement.asset.decimals }),
    payTo: requirement.payTo,
    asset: tokenAsset(requirement.asset),
  };
}

function serviceEntry(listed: ListedOffer, baseUrl: string): ServiceEntry {
  const { offer, requirement } = listed;
  const { asset } = requirement;
  const basis = listedPriceBasis(offer.price, requirement);
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
    pricePerRequest: formatAtomicAmount({ amount: requirement.amount, decimals: asset.decimals }),
    ...(offer.price.unit === 'perMTok' ? { tokensPerRequest: offer.price.tokensPerRequest ?? DEFAULT_TOKENS_PER_REQUEST } : {}),
    ...(offer.price.unit === 'perHour' ? { minutesPerRequest: offer.price.minutesPerRequest ?? DEFAULT_MINUTES_PER_REQUEST } : {}),
    ...(basis !== undefined ? { priceBasis: basis } : {}),
    payTo: requirement.payTo,
    network: offer.network,
    caip2Network: requirement.network,
    chainId: requirement.chainId,
    asset: tokenAsset(asset),
    // Additive: an offer with one option keeps today's entry byte for byte.
    ...(offer.alternatives?.length ? { paymentOptions: paymentOptions(offer).map(paymentOptionEntry) } : {}),
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
