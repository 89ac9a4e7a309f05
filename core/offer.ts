import { z } from 'zod';
import { DECIMAL_PATTERN, DEFAULT_MINUTES_PER_REQUEST, DEFAULT_TOKENS_PER_REQUEST, MAX_MINUTES_PER_REQUEST, MAX_TOKENS_PER_REQUEST } from './price.js';
import { DURATION_PATTERN } from './time.js';
import { RouteApi } from './offer-api.js';

/**
 * The ServiceOffer resource (`obol.org/v1alpha1`), SPEC §2. This zod schema is the single source of
 * truth: the CRD's OpenAPI schema is generated from it (`cluster-agent/deploy/generate-crd.ts`), so
 * it uses no transforms and only RE2-compatible patterns; cross-field rules live in `offer-rules.ts`.
 */

export const OFFER_API_VERSION = 'obol.org/v1alpha1';
export const OFFER_KIND = 'ServiceOffer';

const ADDRESS = '^0x[0-9a-fA-F]{40}$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const NETWORK = '^([a-z0-9][a-z0-9-]{0,62}|eip155:[1-9][0-9]{0,18})$';
/**
 * `drainAt`: RFC 3339 with every field in range (month 01-12, day 01-31, hour 00-23, minute and
 * second 00-59, offset up to ±23:59) and a year from 1970 to 8999, so that with any offset and the
 * longest grace (8760h, `offer-rules.ts`) `drainEndsAt` is still a four-digit-year time the snapshot
 * can carry (year 10000 cannot be written as one). Days a month lacks (Feb 30) are refused by the
 * cross-field rules (core `parseRfc3339` checks the calendar).
 */
export const DRAIN_AT_PATTERN =
  '^(19[7-9][0-9]|[2-8][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';

/**
 * `/services` then one or more `/segment`s of URL path characters, none empty (no `//`, no trailing
 * `/`) and none `.` or `..`. RE2 (the API server) has no lookahead, so a segment is spelled out: an
 * optional dot then a non-dot, or two dots then anything (`...`, `..a` are ordinary names).
 */
export const PATH_PATTERN = '^/services(/(\\.?[A-Za-z0-9_~-][A-Za-z0-9._~-]*|\\.\\.[A-Za-z0-9._~-]+))+$';

/** Why a path fails `PATH_PATTERN`, each reason in words (empty for a valid path). */
export function pathProblems(path: string): string[] {
  const problems: string[] = [];
  if (!path.startsWith('/services/')) problems.push('must start with "/services/"');
  if (/[^A-Za-z0-9._~/-]/.test(path)) problems.push('must use only URL path characters (A-Z a-z 0-9 . _ ~ - /)');
  if (path.split('/').some((segment) => segment === '..' || segment === '.')) problems.push('must not contain ".." or "." segments');
  if (path.includes('//')) problems.push('must not contain "//"');
  if (path.endsWith('/')) problems.push('must not end with "/"');
  return problems;
}

const pathMessage = (input: unknown): string => `path ${(typeof input === 'string' ? pathProblems(input) : []).join(', ') || `must match ${PATH_PATTERN}`}`;

const text = (max: number) => z.string().max(max);
const decimal = z.string().regex(new RegExp(DECIMAL_PATTERN), 'must be a non-negative decimal string like "0.001"');
/**
 * The pattern is all the API server checks: a mixed-case address's EIP-55 checksum needs keccak-256,
 * which neither OpenAPI patterns nor CEL can compute, so `offer-rules.ts` checks it (InvalidSpec).
 */
const address = z
  .string()
  .regex(new RegExp(ADDRESS), 'must be a 0x-prefixed 20-byte hex address')
  .describe('0x-prefixed 20-byte hex address; when mixed-case, its EIP-55 checksum must match (checked by the agent, not the API server)');

export const OfferType = z.enum(['inference', 'fine-tuning', 'http', 'agent']);
export type OfferType = z.infer<typeof OfferType>;

export const AssetSpec = z.object({
  address,
  symbol: text(32).min(1).optional(),
  decimals: z.number().int().min(0).max(36).optional(),
  /** Only EIP-3009 `transferWithAuthorization` is verified by the gate. */
  transferMethod: z.enum(['eip3009']).optional(),
  eip712Name: text(128).min(1).optional(),
  eip712Version: text(32).min(1).optional(),
});

export const PriceSpec = z.object({
  perRequest: decimal.optional(),
  perMTok: decimal.optional(),
  perHour: decimal.optional(),
  perEpoch: decimal.optional(),
  tokensPerRequest: z
    .number()
    .int('must be a whole number of tokens')
    .min(1, 'must be at least 1 token')
    .max(MAX_TOKENS_PER_REQUEST, `must be at most ${MAX_TOKENS_PER_REQUEST} tokens`)
    .describe(`perMTok only: tokens one request is assumed to use; the charge per request is perMTok × tokensPerRequest / 1,000,000 (default ${DEFAULT_TOKENS_PER_REQUEST})`)
    .optional(),
  minutesPerRequest: z
    .number()
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1 minute')
    .max(MAX_MINUTES_PER_REQUEST, `must be at most ${MAX_MINUTES_PER_REQUEST} minutes (a day)`)
    .describe(`perHour only: minutes one request is assumed to take; the charge per request is perHour × minutesPerRequest / 60 (default ${DEFAULT_MINUTES_PER_REQUEST})`)
    .optional(),
});

const network = z.string().regex(new RegExp(NETWORK), 'must be a network name like "base-sepolia" or a CAIP-2 id like "eip155:84532"');

/** Most ways to pay one offer, the primary included: each is one more entry in every 402's `accepts`. */
export const MAX_PAYMENT_OPTIONS = 8;

/**
 * Another way to pay the same price: a network and asset (the chain's USDC when left out), paid to
 * `payTo` (default: the primary's). The amount is the price converted at this asset's decimals.
 */
export const PaymentAlternative = z.object({
  network,
  asset: AssetSpec.optional(),
  payTo: address.optional(),
});

export const PaymentSpec = z.object({
  scheme: z.enum(['exact']).default('exact'),
  network,
  payTo: address,
  maxTimeoutSeconds: z.number().int().min(1).max(86400).default(300),
  asset: AssetSpec.optional(),
  price: PriceSpec,
  /** More networks/assets accepting the same price, in the seller's order after the primary (checked by `offer-rules.ts`). */
  alternatives: z
    .array(PaymentAlternative)
    .max(MAX_PAYMENT_OPTIONS - 1, `must list at most ${MAX_PAYMENT_OPTIONS - 1} alternatives`)
    .describe('other networks/assets accepting the same price, after the primary in every 402; each needs a known network or a complete asset, and no two options may name the same network and asset')
    .optional(),
});
export type PaymentAlternative = z.infer<typeof PaymentAlternative>;

/** A custom ERC-8004 `services[]` entry: a name and an endpoint, plus any extra string fields. */
export const RegistrationService = z
  .object({
    name: text(128).min(1),
    endpoint: text(2048).min(1),
    version: text(64).optional(),
  })
  .catchall(z.union([z.string().max(2048), z.array(z.string().max(256)).max(64)]));

export const RegistrationSpec = z.object({
  enabled: z.boolean().default(false),
  name: text(256).optional(),
  description: text(4096).optional(),
  image: text(2048).optional(),
  services: z.array(RegistrationService).max(32).optional(),
  supportedTrust: z.array(text(64)).max(16).optional(),
  skills: z.array(text(256)).max(64).optional(),
  domains: z.array(text(256)).max(64).optional(),
  metadata: z.record(z.string().max(256), z.string().max(4096)).optional(),
});

export const ServiceOfferSpec = z.object({
  type: OfferType.default('http'),
  model: z
    .object({
      name: text(256).min(1),
      runtime: z.enum(['ollama', 'vllm', 'tgi']).optional(),
    })
    .optional(),
  upstream: z.object({
    service: z.string().regex(new RegExp(DNS_LABEL), 'must be a DNS label (a Service name)').max(63),
    namespace: z.string().regex(new RegExp(DNS_LABEL), 'must be a DNS label (a namespace)').max(63).optional(),
    port: z.number().int().min(1).max(65535).default(11434),
    healthPath: z.string().regex(/^\/[^\s]*$/, 'must start with "/"').max(1024).default('/health'),
  }),
  payment: PaymentSpec,
  path: z
    .string()
    .regex(new RegExp(PATH_PATTERN), { error: (issue) => pathMessage(issue.input) })
    .max(512)
    .optional(),
  registration: RegistrationSpec.optional(),
  /** How the route is called and what it answers: the OpenAPI document and the 402's Bazaar extension. */
  api: RouteApi.optional(),
  drainAt: z
    .string()
    .regex(new RegExp(DRAIN_AT_PATTERN), 'must be an RFC 3339 time from 1970 to 8999 like "2026-06-01T13:00:00Z"')
    .describe('RFC 3339 time, years 1970 to 8999; set = the offer is draining')
    .optional(),
  drainGracePeriod: z
    .string()
    .min(1)
    .max(32)
    .regex(new RegExp(DURATION_PATTERN), 'must be a duration like "30m", "1h30m" or "0s"')
    .describe('how long after drainAt the route stays up, like "30m"; default 1h, at most 8760h (checked by the agent)')
    .optional(),
});

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});

export const ServiceOfferStatus = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(Condition).optional(),
  drainEndsAt: z.string().optional(),
  endpoint: z.string().optional(),
});

export const ObjectMeta = z.object({
  name: z.string().regex(new RegExp(DNS_SUBDOMAIN), 'must be a DNS-1123 subdomain').max(253),
  namespace: z.string().regex(new RegExp(DNS_LABEL)).max(63).default('default'),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const ServiceOffer = z.object({
  apiVersion: z.literal(OFFER_API_VERSION),
  kind: z.literal(OFFER_KIND),
  metadata: ObjectMeta,
  spec: ServiceOfferSpec,
  status: ServiceOfferStatus.optional(),
});

export type ServiceOffer = z.infer<typeof ServiceOffer>;
export type ServiceOfferInput = z.input<typeof ServiceOffer>;
export type ServiceOfferSpec = z.infer<typeof ServiceOfferSpec>;
export type RegistrationSpec = z.infer<typeof RegistrationSpec>;
export type OfferCondition = z.infer<typeof Condition>;

/** `namespace/name`, the offer's key everywhere (queue, snapshot, metrics). */
export function offerKey(meta: { namespace: string; name: string }): string {
  return `${meta.namespace}/${meta.name}`;
}

/** The public path prefix: `spec.path`, else `/services/<metadata.name>`. */
export function offerPath(offer: { metadata: { name: string }; spec: { path?: string } }): string {
  return offer.spec.path ?? `/services/${offer.metadata.name}`;
}

/** Annotation that gives the upstream base URL outside a cluster (dir: source, publisher). */
export const UPSTREAM_URL_ANNOTATION = 'obol.org/upstream-url';
