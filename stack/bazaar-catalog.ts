/**
 * The local facilitator's x402 Bazaar catalog: the official facilitator (@x402/core 2.27) has
 * settle hooks but no catalog of its own, so this one files each successfully settled payment's
 * resource, read by @x402/extensions' `extractDiscoveryInfo` (the declaration the buyer echoed,
 * checked against its own schema), and lists them as `GET /discovery/resources` answers
 * (`DiscoveryResourcesResponse`, what `withBazaar(client).extensions.bazaar.listResources()` reads).
 */
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { extractDiscoveryInfo, type DiscoveryResource, type DiscoveryResourcesResponse } from '@x402/extensions/bazaar';
import { z } from 'zod';

/** Resources kept; the oldest update is dropped beyond it. */
export const MAX_CATALOGED_RESOURCES = 1_000;
export const DEFAULT_LIST_LIMIT = 100;

export const ListQuery = z.object({
  type: z.string().max(32).optional(),
  payTo: z.string().max(64).optional(),
  network: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(DEFAULT_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  offset: z.coerce.number().int().min(0).default(0),
});
export type ListQuery = z.infer<typeof ListQuery>;

export interface BazaarCatalog {
  /** File the resource a settled payment paid for; false when the payment declared none (or an invalid one). */
  record(payload: PaymentPayload, requirements: PaymentRequirements, nowMs?: number): boolean;
  /** The resources matching `query`; a declaration whose `drainEndsAt` has passed is left out (its route is gone). */
  list(query: ListQuery, nowMs?: number): DiscoveryResourcesResponse;
}

/** Obol's declarations carry `info.drainEndsAt` while the offer drains (core `x402/bazaar.ts`). */
function drained(resource: DiscoveryResource, nowMs: number): boolean {
  const info = (resource.extensions?.['bazaar'] as { info?: { drainEndsAt?: unknown } } | undefined)?.info;
  return typeof info?.drainEndsAt === 'string' && Date.parse(info.drainEndsAt) <= nowMs;
}

export function createBazaarCatalog(): BazaarCatalog {
  // Keyed by the canonical resource URL (origin + path, no query): a later payment updates the entry.
  const resources = new Map<string, DiscoveryResource>();
  return {
    record(payload, requirements, nowMs = Date.now()) {
      const discovered = extractDiscoveryInfo(payload, requirements);
      if (!discovered) return false;
      const { resourceUrl, description, mimeType, serviceName, tags, iconUrl, extensions, x402Version } = discovered;
      resources.delete(resourceUrl);
      resources.set(resourceUrl, {
        resource: resourceUrl,
        type: discovered.discoveryInfo.input.type,
        x402Version,
        accepts: [requirements],
        lastUpdated: new Date(nowMs).toISOString(),
        ...(description !== undefined ? { description } : {}),
        ...(mimeType !== undefined ? { mimeType } : {}),
        ...(serviceName !== undefined ? { serviceName } : {}),
        ...(tags !== undefined ? { tags } : {}),
        ...(iconUrl !== undefined ? { iconUrl } : {}),
        ...(extensions !== undefined ? { extensions } : {}),
      });
      if (resources.size > MAX_CATALOGED_RESOURCES) resources.delete(resources.keys().next().value as string);
      return true;
    },
    list(query, nowMs = Date.now()) {
      const matching = [...resources.values()].filter(
        (r) =>
          !drained(r, nowMs) &&
          (query.type === undefined || r.type === query.type) &&
          (query.payTo === undefined || r.accepts.some((a) => a.payTo.toLowerCase() === query.payTo?.toLowerCase())) &&
          (query.network === undefined || r.accepts.some((a) => a.network === query.network)),
      );
      return {
        x402Version: 2,
        items: matching.slice(query.offset, query.offset + query.limit),
        pagination: { limit: query.limit, offset: query.offset, total: matching.length },
      };
    },
  };
}
