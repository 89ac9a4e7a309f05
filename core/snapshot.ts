import { z } from 'zod';
import { MAX_PAYMENT_OPTIONS, OfferType, RegistrationService } from './offer.js';
import { RouteApi } from './offer-api.js';
import { BazaarDeclaration } from './x402/bazaar.js';
import { MAX_MINUTES_PER_REQUEST, MAX_TOKENS_PER_REQUEST } from './price.js';
import { PaymentRequirement } from './requirement.js';
import { isRealInstant } from './time.js';

/**
 * The catalog snapshot the agent signs and pushes to the edge (SPEC §6). It may be public: it
 * carries no upstream address, annotation or secret. The edge consumes it without reshaping it.
 */

/**
 * '2' dropped each offer's `phase`: written at signing time, it went stale as the clock moved, and
 * the edge judges every offer from `drainEndsAt` by its own clock. A '1' snapshot is still accepted
 * (its `phase` is ignored), so an edge can be upgraded before its agents.
 */
export const SNAPSHOT_SCHEMA_VERSION = '2';
export const ACCEPTED_SNAPSHOT_SCHEMA_VERSIONS = ['1', SNAPSHOT_SCHEMA_VERSION] as const;
/** Largest snapshot body the edge accepts (SPEC §6: at least 16 MiB). */
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;
export const MAX_SNAPSHOT_OFFERS = 20_000;

const RFC3339_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const rfc3339Utc = z
  .string()
  .regex(RFC3339_UTC_SECONDS, 'must be RFC 3339 UTC to the second')
  // A signed snapshot naming 30 February would otherwise pass here and throw wherever the time is read (a malformed one is the regex's to report).
  .refine((value) => !RFC3339_UTC_SECONDS.test(value) || isRealInstant(value), 'must be a real calendar time');

export const Registration8004 = z.object({
  agentId: z.number().int().nonnegative(),
  agentRegistry: z.string().regex(/^eip155:[1-9][0-9]{0,18}:0x[0-9a-fA-F]{40}$/, 'must be eip155:<chainId>:<identityRegistry>'),
});

/** The agent's ERC-8004 identity, from the agent's configuration (`--identity`). */
export const AgentIdentity = z.object({
  name: z.string().min(1).max(256).optional(),
  description: z.string().max(4096).optional(),
  image: z.string().max(2048).optional(),
  registrations: z.array(Registration8004).max(32).default([]),
  supportedTrust: z.array(z.string().max(64)).max(16).optional(),
});
export type AgentIdentity = z.infer<typeof AgentIdentity>;

export const SnapshotRegistration = z.object({
  name: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  image: z.string().max(2048).optional(),
  services: z.array(RegistrationService).max(32),
  skills: z.array(z.string().max(256)).max(64).optional(),
  domains: z.array(z.string().max(256)).max(64).optional(),
  supportedTrust: z.array(z.string().max(64)).max(16).optional(),
});
export type SnapshotRegistration = z.infer<typeof SnapshotRegistration>;

export const SnapshotOffer = z.object({
  /** `namespace/name`. */
  key: z.string().max(400),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
  /** Public path prefix, unique in the snapshot. */
  path: z.string().regex(/^\/services\/[A-Za-z0-9._~/-]+$/).max(512),
  type: OfferType,
  model: z.string().max(256).optional(),
  description: z.string().max(4096),
  /** `spec.payment.network` as written. */
  network: z.string().max(64),
  price: z.object({
    raw: z.string().max(64),
    unit: z.enum(['perRequest', 'perMTok', 'perHour']),
    /** e.g. "0.001 USDC/request". */
    display: z.string().max(128),
    /** perMTok only: the tokens a request is assumed to use (absent in older snapshots: the default, 1,000). */
    tokensPerRequest: z.number().int().min(1).max(MAX_TOKENS_PER_REQUEST).optional(),
    /** perHour only: the minutes a request is assumed to take (absent in older snapshots: the default, 5). */
    minutesPerRequest: z.number().int().min(1).max(MAX_MINUTES_PER_REQUEST).optional(),
  }),
  /** Present iff the payment resolved: the primary option (`spec.payment`), the first in every 402. */
  requirement: PaymentRequirement.optional(),
  /**
   * The other ways to pay the same price (`spec.payment.alternatives` resolved), in the seller's
   * order after `requirement`; present iff the payment resolved and the offer lists any. Additive:
   * an edge or reader that knows only `requirement` still sees the offer's first option.
   */
  alternatives: z.array(PaymentRequirement).min(1).max(MAX_PAYMENT_OPTIONS - 1).optional(),
  /**
   * Publication facts other than validity (every entry is valid: the agent leaves the others out)
   * and drain, as the agent observed them at `issuedAt`. The edge judges the drain by its own clock.
   */
  upstreamHealthy: z.boolean(),
  routeReady: z.boolean(),
  drainAt: rfc3339Utc.optional(),
  drainEndsAt: rfc3339Utc.optional(),
  skills: z.array(z.string().max(256)).max(64).optional(),
  /** Present iff `spec.registration.enabled`. */
  registration: SnapshotRegistration.optional(),
  /** `spec.api` as validated: the OpenAPI document describes the route from it. */
  api: RouteApi.optional(),
  /** Present iff `spec.api` is: the 402's Bazaar extension, built by the agent (core `x402/bazaar.ts`). */
  bazaar: BazaarDeclaration.optional(),
});
export type SnapshotOffer = z.infer<typeof SnapshotOffer>;

/** Every way to pay an offer, in the seller's order: `requirement` first, then `alternatives` (empty when unresolved). */
export function paymentOptions(offer: Pick<SnapshotOffer, 'requirement' | 'alternatives'>): PaymentRequirement[] {
  return offer.requirement ? [offer.requirement, ...(offer.alternatives ?? [])] : [];
}

export const CatalogSnapshot = z.object({
  schemaVersion: z.enum(ACCEPTED_SNAPSHOT_SCHEMA_VERSIONS),
  sequence: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  issuedAt: rfc3339Utc,
  /** The edge's PUBLIC_BASE_URL this snapshot is meant for. */
  audience: z.string().url().max(2048),
  identity: AgentIdentity,
  offers: z.array(SnapshotOffer).max(MAX_SNAPSHOT_OFFERS),
});
export type CatalogSnapshot = z.infer<typeof CatalogSnapshot>;
export type CatalogSnapshotInput = z.input<typeof CatalogSnapshot>;

/** SPEC §6: the agent's next sequence, increasing across restarts and replicas. */
export function nextSequence(params: { edgeSequence: number | undefined; nowMs: number }): number {
  return Math.max((params.edgeSequence ?? 0) + 1, params.nowMs);
}
