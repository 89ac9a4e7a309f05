import {
  carryPlan,
  nextSequence,
  planCatalog,
  type AgentIdentity,
  type CatalogPlan,
  type OfferObservation,
  type PlanInput,
  type SnapshotOffer,
} from '../../../core/index.js';
import { declareBazaar } from '../discovery/bazaar-declaration.js';
import { createEdgeClient, type EdgeClient } from './edge-client.js';
import { readOfferManifests } from './manifests.js';
import { probeOffers, type ProbeResult } from './probe.js';
import type { CatalogSigner } from './signer.js';
import { buildCatalogSnapshot, encodeSnapshot, snapshotEntryProblem, type ExcludedOffer } from './snapshot.js';

/**
 * The one-shot publisher pipeline: read manifests → probe upstreams → planCatalog (source `dir`)
 * → edge status → sequence (SPEC §6) → build → sign → push. Each step is exported on its own so
 * the long-running agent can reuse them with its own sources and observations.
 */

export interface HealthObservations {
  readonly observe: (key: string) => OfferObservation;
  /** Probe results by key; empty when health was assumed. */
  readonly probes: ReadonlyMap<string, ProbeResult>;
}

/** Probe the upstream of every valid offer (or assume all healthy) and expose it as an observer. */
export async function observeHealth(
  inputs: readonly PlanInput[],
  options: { assumeHealthy: boolean; timeoutMs?: number; fetch?: typeof fetch },
): Promise<HealthObservations> {
  if (options.assumeHealthy) return { observe: () => ({ upstreamHealthy: true, routePublished: false }), probes: new Map() };
  const valid = inputs.flatMap((i) => (i.parsed.ok ? [{ key: i.key, offer: i.parsed.offer }] : []));
  const probes = await probeOffers(valid, { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
  return { observe: (key) => ({ upstreamHealthy: probes.get(key)?.healthy ?? false, routePublished: false }), probes };
}

export interface PushSnapshotParams {
  readonly client: EdgeClient;
  readonly signer: CatalogSigner;
  readonly offers: readonly SnapshotOffer[];
  readonly identity: AgentIdentity;
  /** Overrides the audience the edge reports in its status. */
  readonly audience?: string;
  readonly nowMs: number;
}

export interface PushOutcome {
  readonly sequence: number;
  /** The edge already held this exact snapshot. */
  readonly unchanged: boolean;
  readonly audience: string;
  readonly issuedAt: string;
  /** The edge's sequence before this push, if it had one. */
  readonly previousSequence?: number;
  readonly bytes: number;
  readonly signer: string;
  /** Entries the snapshot schema refused, left out of this push (the rest went out). */
  readonly excluded: readonly ExcludedOffer[];
}

/** Ask the edge for its status, pick the sequence, build, sign and push one snapshot. */
export async function pushSnapshot(params: PushSnapshotParams): Promise<PushOutcome> {
  const status = await params.client.status();
  const previous = status.sequence ?? undefined;
  const audience = params.audience ?? status.audience;
  const sequence = nextSequence({ edgeSequence: previous, nowMs: params.nowMs });
  const { snapshot, excluded } = buildCatalogSnapshot({ offers: params.offers, identity: params.identity, audience, sequence, issuedAtMs: params.nowMs });
  const body = encodeSnapshot(snapshot);
  const signature = await params.signer.sign(body);
  const accepted = await params.client.push(body, signature);
  return {
    sequence: accepted.sequence,
    unchanged: accepted.unchanged,
    audience,
    issuedAt: snapshot.issuedAt,
    ...(previous !== undefined ? { previousSequence: previous } : {}),
    bytes: body.byteLength,
    signer: params.signer.address,
    excluded,
  };
}

export interface PublishOnceParams {
  readonly offersDir: string;
  /** The edge's URL as reachable from here. */
  readonly edgeUrl: string;
  readonly signer: CatalogSigner;
  readonly identity: AgentIdentity;
  readonly audience?: string;
  readonly assumeHealthy?: boolean;
  readonly probeTimeoutMs?: number;
  readonly edgeTimeoutMs?: number;
  /** Clock, for tests; defaults to Date.now. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

export interface PublishResult extends PushOutcome {
  readonly plan: CatalogPlan;
  readonly probes: ReadonlyMap<string, ProbeResult>;
  /** Offer key → manifest file. */
  readonly sources: ReadonlyMap<string, string>;
}

export async function publishOnce(params: PublishOnceParams): Promise<PublishResult> {
  const now = params.now ?? Date.now;
  const manifests = await readOfferManifests(params.offersDir);
  const health = await observeHealth(manifests.inputs, {
    assumeHealthy: params.assumeHealthy ?? false,
    ...(params.probeTimeoutMs ? { timeoutMs: params.probeTimeoutMs } : {}),
    ...(params.fetch ? { fetch: params.fetch } : {}),
  });
  // An offer the snapshot cannot carry is left out, its decision saying why, and the rest still go out.
  const plan = carryPlan(planCatalog({ offers: manifests.inputs, observe: health.observe, routeManagement: false, source: 'dir', nowMs: now(), declareBazaar }), snapshotEntryProblem);
  const client = createEdgeClient({
    baseUrl: params.edgeUrl,
    ...(params.edgeTimeoutMs ? { timeoutMs: params.edgeTimeoutMs } : {}),
    ...(params.fetch ? { fetch: params.fetch } : {}),
  });
  const outcome = await pushSnapshot({
    client,
    signer: params.signer,
    offers: plan.offers,
    identity: params.identity,
    ...(params.audience !== undefined ? { audience: params.audience } : {}),
    nowMs: now(),
  });
  return { ...outcome, plan, probes: health.probes, sources: manifests.sources };
}
