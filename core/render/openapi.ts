import { isQueryMethod, type RouteApi } from '../offer-api.js';
import type { PaymentRequirement } from '../requirement.js';
import { paymentOptions, type CatalogSnapshot } from '../snapshot.js';
import { buildChallenges, PAYMENT_REQUIRED_HEADER } from '../x402/challenge.js';
import { PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER } from '../x402/payment-header.js';
import { RECEIPT_HEADER_V1, RECEIPT_HEADER_V2 } from '../x402/settlement.js';
import { absoluteUrl, listedOffers, type ListedOffer } from './listed-offers.js';
import { networkName, paymentTerms } from './payment-terms.js';
import { agentCard } from './registration.js';

/**
 * `/openapi.json`: an OpenAPI 3.1 document of the paid routes, each operation carrying its x402
 * payment terms (`x-payment-info`) and its 402 answer, so an OpenAPI-aware client can discover and
 * pay them. Listed exactly as the other documents list offers: a draining operation is
 * `deprecated` and names its deadline, a drained one is gone.
 */

export { OPENAPI_PATH } from './document-paths.js';
export const OPENAPI_VERSION = '3.1.0';
/** The version of the catalog's interface as this document describes it (OpenAPI's `info.version`). */
export const OPENAPI_DOCUMENT_VERSION = '1';

type Json = Record<string, unknown>;

const BODY_MEDIA_TYPES: Record<NonNullable<RouteApi['body']>['type'], string> = {
  json: 'application/json',
  'form-data': 'multipart/form-data',
  text: 'text/plain',
};

/** The route's method and input when `spec.api` describes it; GET with nothing described otherwise. */
function describedInput(api: RouteApi | undefined): { method: string; input: Json } {
  if (!api) return { method: 'get', input: {} };
  const input: Json = {};
  if (api.query && isQueryMethod(api.method)) {
    const { schema, example } = api.query;
    const properties = (schema.properties ?? {}) as Record<string, Json>;
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    input.parameters = Object.entries(properties).map(([name, property]) => ({
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof property.description === 'string' ? { description: property.description } : {}),
      schema: property,
      ...(example && name in example ? { example: example[name] } : {}),
    }));
  }
  if (api.body && !isQueryMethod(api.method)) {
    const { type, schema, example } = api.body;
    input.requestBody = { required: true, content: { [BODY_MEDIA_TYPES[type]]: { schema, ...(example ? { example } : {}) } } };
  }
  return { method: api.method.toLowerCase(), input };
}

/** What the 402 demands, per operation: price in atomic units, network, asset, payTo, and the drain deadline. */
/** One way to pay, in x-payment-info's words. */
function optionInfo(requirement: PaymentRequirement): Json {
  const terms = paymentTerms(requirement);
  return {
    x402Versions: requirement.v1Network !== undefined ? [2, 1] : [2],
    scheme: requirement.scheme,
    amount: requirement.amount,
    amountDisplay: `${terms.amount} ${terms.symbol}`,
    network: requirement.network,
    networkName: networkName(requirement),
    ...(requirement.v1Network !== undefined ? { v1Network: requirement.v1Network } : {}),
    asset: {
      address: requirement.asset.address,
      ...(requirement.asset.symbol !== undefined ? { symbol: requirement.asset.symbol } : {}),
      decimals: requirement.asset.decimals,
      eip712Domain: { ...requirement.asset.eip712Domain },
    },
    payTo: requirement.payTo,
  };
}

function paymentInfo(listed: ListedOffer): Json {
  const { offer, requirement } = listed;
  return {
    protocol: 'x402',
    ...optionInfo(requirement),
    price: offer.price.display,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    // Additive: the keys above stay the first option's; an offer with several lists them all, in the 402's order.
    ...(offer.alternatives?.length ? { options: paymentOptions(offer).map(optionInfo) } : {}),
    ...(listed.drainEndsAt !== undefined ? { drainEndsAt: listed.drainEndsAt } : {}),
  };
}

function paidResponse(api: RouteApi | undefined, mimeType: string): Json {
  return {
    description: `Paid: the service's answer. The settlement receipt is in ${RECEIPT_HEADER_V2} (x402 v2) or ${RECEIPT_HEADER_V1} (v1).`,
    headers: {
      [RECEIPT_HEADER_V2]: { description: 'Base64 JSON settlement receipt (x402 v2 payments)', schema: { type: 'string' } },
      [RECEIPT_HEADER_V1]: { description: 'Base64 JSON settlement receipt (x402 v1 payments)', schema: { type: 'string' } },
    },
    content: { [mimeType]: api?.output ? { example: api.output.example } : {} },
  };
}

/** The route's unpaid answer: the v1 challenge as the body (this operation's exact terms), the v2 one in the header. */
function paymentRequiredResponse(listed: ListedOffer, resourceUrl: string): Json {
  const { v1 } = buildChallenges({ requirement: listed.requirement, alternatives: listed.offer.alternatives, resourceUrl, error: 'payment_required' });
  return {
    description: `Payment required: pay the amount in x-payment-info and retry with ${PAYMENT_SIGNATURE_HEADER} (x402 v2) or ${X_PAYMENT_HEADER} (v1).`,
    headers: { [PAYMENT_REQUIRED_HEADER]: { $ref: '#/components/headers/PaymentRequired' } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/PaymentRequiredV1' }, example: v1 } },
  };
}

function operation(listed: ListedOffer, baseUrl: string): { method: string; body: Json } {
  const { offer, requirement } = listed;
  const api = offer.api;
  const { method, input } = describedInput(api);
  const draining = listed.drainEndsAt !== undefined ? ` Draining: this route closes at ${listed.drainEndsAt}.` : '';
  return {
    method,
    body: {
      operationId: offer.key,
      summary: offer.name,
      description: `${offer.description}${draining}`,
      ...(api?.tags?.length ? { tags: [...api.tags] } : {}),
      ...input,
      responses: {
        '200': paidResponse(api, requirement.mimeType),
        '402': paymentRequiredResponse(listed, absoluteUrl(baseUrl, offer.path)),
      },
      ...(listed.drainEndsAt !== undefined ? { deprecated: true } : {}),
      'x-payment-info': paymentInfo(listed),
    },
  };
}

const COMPONENTS: Json = {
  headers: {
    PaymentRequired: { description: 'Base64 JSON of the x402 v2 PaymentRequired: the same deal as the v1 body', required: true, schema: { type: 'string' } },
  },
  schemas: {
    PaymentRequiredV1: {
      type: 'object',
      required: ['x402Version', 'error', 'accepts'],
      properties: {
        x402Version: { const: 1 },
        error: { type: 'string' },
        accepts: {
          type: 'array',
          items: {
            type: 'object',
            required: ['scheme', 'network', 'maxAmountRequired', 'resource', 'payTo', 'asset', 'maxTimeoutSeconds'],
            properties: {
              scheme: { type: 'string' },
              network: { type: 'string' },
              maxAmountRequired: { type: 'string', pattern: '^[0-9]+$', description: 'Atomic units' },
              resource: { type: 'string' },
              description: { type: 'string' },
              mimeType: { type: 'string' },
              payTo: { type: 'string' },
              maxTimeoutSeconds: { type: 'integer' },
              asset: { type: 'string' },
              extra: { type: 'object' },
            },
          },
        },
      },
    },
  },
};

export function renderOpenApiDocument(params: { snapshot: Pick<CatalogSnapshot, 'identity' | 'offers'>; baseUrl: string; nowMs: number }): Json {
  const card = agentCard(params);
  const paths: Record<string, Json> = {};
  for (const listed of listedOffers(params.snapshot, params.nowMs)) {
    const { method, body } = operation(listed, params.baseUrl);
    paths[listed.offer.path] = { [method]: body };
  }
  return {
    openapi: OPENAPI_VERSION,
    info: { title: `${card.name} — x402 services`, version: OPENAPI_DOCUMENT_VERSION, description: card.description },
    servers: [{ url: params.baseUrl.replace(/\/+$/, '') }],
    paths,
    components: COMPONENTS,
  };
}

/** The exact bytes served: two-space indented JSON and a final newline. */
export function serializeOpenApiDocument(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
