import { planCatalog } from '../../core/catalog-plan.js';
import { offerKey, type ServiceOfferInput } from '../../core/offer.js';
import { parseServiceOffer } from '../../core/offer-rules.js';
import { CatalogSnapshot, type AgentIdentity } from '../../core/snapshot.js';
import { formatRfc3339 } from '../../core/time.js';

/**
 * Test fixtures for the renderers and the discovery routes: snapshots built the way the agent
 * builds them (manifest → parseServiceOffer → planCatalog), never hand-shaped entries.
 */

export const FIXTURE_PAY_TO = '0x1111111111111111111111111111111111111111';

type SpecInput = ServiceOfferInput['spec'];

export function offerManifest(params: { name: string; namespace?: string; spec?: Partial<SpecInput> }): ServiceOfferInput {
  const { spec = {} } = params;
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: params.name, namespace: params.namespace ?? 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      upstream: { service: 'upstream' },
      payment: { network: 'base-sepolia', payTo: FIXTURE_PAY_TO, price: { perRequest: '0.001' } },
      ...spec,
    },
  };
}

export interface FixtureParams {
  readonly manifests: readonly ServiceOfferInput[];
  readonly nowMs: number;
  readonly identity?: Partial<AgentIdentity>;
  /** Keys (`namespace/name`) whose upstream is unhealthy. */
  readonly unhealthy?: readonly string[];
  readonly sequence?: number;
  readonly audience?: string;
}

/** A schema-valid snapshot for the manifests; throws when a manifest is invalid (a broken fixture). */
export function fixtureSnapshot(params: FixtureParams): CatalogSnapshot {
  const offers = params.manifests.map((manifest) => {
    const parsed = parseServiceOffer(manifest);
    if (!parsed.ok) throw new Error(`fixture manifest ${manifest.metadata.name} is invalid: ${JSON.stringify(parsed.problems)}`);
    return { key: offerKey(parsed.offer.metadata), parsed };
  });
  const unhealthy = new Set(params.unhealthy ?? []);
  const plan = planCatalog({
    offers,
    observe: (key) => ({ upstreamHealthy: !unhealthy.has(key), routePublished: true }),
    routeManagement: false,
    source: 'dir',
    nowMs: params.nowMs,
  });
  return CatalogSnapshot.parse({
    schemaVersion: '1',
    sequence: params.sequence ?? params.nowMs,
    issuedAt: formatRfc3339(params.nowMs),
    audience: params.audience ?? 'https://edge.test',
    identity: { registrations: [], ...params.identity },
    offers: plan.offers,
  });
}
