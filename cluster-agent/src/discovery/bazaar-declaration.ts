import { bazaarResourceServerExtension, declareDiscoveryExtension } from '@x402/extensions/bazaar';
import { isQueryMethod, type RouteApi } from '../../../core/offer-api.js';
import { BAZAAR_EXTENSION_KEY, BazaarDeclaration, DRAIN_ENDS_AT_SCHEMA } from '../../../core/x402/bazaar.js';

/**
 * An offer's x402 Bazaar declaration, built once per snapshot entry with the official helpers:
 * `declareDiscoveryExtension` from `spec.api`, then the HTTP method added the way the official
 * resource server adds it per request (`enrichDeclaration`). The schema also declares
 * `info.drainEndsAt`, which the edge adds while the offer drains.
 */
export function declareBazaar(api: RouteApi): BazaarDeclaration {
  const output = api.output ? { output: { example: api.output.example } } : {};
  const declared = isQueryMethod(api.method)
    ? declareDiscoveryExtension({ input: api.query?.example ?? {}, inputSchema: { ...(api.query?.schema ?? { properties: {} }) }, ...output })
    : declareDiscoveryExtension({ bodyType: api.body?.type ?? 'json', input: api.body?.example ?? {}, inputSchema: { ...(api.body?.schema ?? { properties: {} }) }, ...output });
  // No routePattern: the offer's path is literal, so the helper adds only the method.
  const withMethod = bazaarResourceServerExtension.enrichDeclaration?.(declared[BAZAAR_EXTENSION_KEY], { method: api.method, adapter: {} });
  const declaration = BazaarDeclaration.parse(withMethod);
  const properties = (declaration.schema.properties ?? {}) as Record<string, unknown>;
  return { info: declaration.info, schema: { ...declaration.schema, properties: { ...properties, drainEndsAt: DRAIN_ENDS_AT_SCHEMA } } };
}
