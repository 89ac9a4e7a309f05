import { z } from 'zod';
import type { SnapshotOffer } from '../snapshot.js';
import type { OfferDeclarations } from './challenge.js';

/**
 * The x402 Bazaar discovery extension of an offer's 402 (`extensions.bazaar`: `info` describes how
 * to call the route, `schema` is the JSON Schema `info` satisfies). The agent builds it with
 * `@x402/extensions` (cluster-agent/src/discovery/bazaar-declaration.ts) and the snapshot carries
 * it: that package needs Node built-ins the edge's runtime does not have. The edge only adds the
 * drain deadline.
 */

export const BAZAAR_EXTENSION_KEY = 'bazaar';

export const BazaarDeclaration = z.object({
  info: z.record(z.string(), z.unknown()),
  schema: z.record(z.string(), z.unknown()),
});
export type BazaarDeclaration = z.infer<typeof BazaarDeclaration>;

/** The schema of `info.drainEndsAt`, which a draining offer's declaration carries. */
export const DRAIN_ENDS_AT_SCHEMA = {
  type: 'string',
  // A pattern, not format "date-time": validators such as Bazaar's check patterns but only warn on formats.
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$',
  description: 'Present only while the offer drains: when its route closes (RFC 3339)',
} as const;

/** The declaration as a draining offer's 402 carries it: `info.drainEndsAt` added, nothing else changed. */
export function drainingDeclaration(declaration: BazaarDeclaration, drainEndsAt: string): BazaarDeclaration {
  return { ...declaration, info: { ...declaration.info, drainEndsAt } };
}

/**
 * What an offer declares in its v2 challenge: its Bazaar declaration (with the deadline while it
 * drains) and its tags; undefined for an offer without `spec.api`.
 */
export function offerDeclarations(offer: Pick<SnapshotOffer, 'api' | 'bazaar' | 'drainEndsAt'>, draining: boolean): OfferDeclarations | undefined {
  if (!offer.bazaar) return undefined;
  const bazaar = draining && offer.drainEndsAt !== undefined ? drainingDeclaration(offer.bazaar, offer.drainEndsAt) : offer.bazaar;
  return { extensions: { [BAZAAR_EXTENSION_KEY]: bazaar }, ...(offer.api?.tags?.length ? { tags: offer.api.tags } : {}) };
}
