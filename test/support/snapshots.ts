import type { Hex } from 'viem';
import {
  formatRfc3339,
  parseServiceOffer,
  planCatalog,
  describeProblems,
  type AgentIdentity,
  type CatalogSnapshot,
  type ServiceOfferInput,
  type SnapshotOffer,
} from '../../core/index.js';
import { signerAddress, signSnapshotBody, SIGNATURE_HEADER } from '../../core/signature.js';
import { TEST_PUBLIC_BASE_URL, type TestEdge } from './edge.js';
import { declareBazaar } from '../../cluster-agent/src/discovery/bazaar-declaration.js';

/**
 * Snapshot helpers for tests (SPEC §6). The whole API:
 * - `TEST_KEYS.signer` / `.rotated` / `.stranger`: fixed, well-known (anvil's first three) test keys;
 *   `signerVars(...keys)` → `{ CATALOG_SIGNERS }` for `startEdge({ vars })`.
 * - `sampleOffer({ name, namespace, spec, upstreamHealthy, routePublished, nowMs })` → a real
 *   `SnapshotOffer`, built from a ServiceOffer manifest by core's `parseServiceOffer` + `planCatalog`.
 * - `sampleOffers(count, options)` → `count` offers named `svc-00000`… with distinct paths.
 * - `makeSnapshot({ offers, sequence, issuedAt, audience, identity })` → a `CatalogSnapshot`
 *   (defaults: no offers, sequence 1, issued now, audience = the test edge's PUBLIC_BASE_URL).
 * - `snapshotBody(snapshot)` → the exact JSON text that is signed and pushed.
 * - `pushSnapshot(edge, snapshot | body, { key, signature, headers })` → the edge's Response to
 *   `PUT /_obol/v1/catalog`, signed with `key` (default `TEST_KEYS.signer`) unless `signature` is given.
 */

export const TEST_KEYS = {
  signer: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  rotated: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  stranger: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const satisfies Record<string, Hex>;

export const TEST_PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** Edge vars that allow these keys to sign catalog pushes. */
export function signerVars(...keys: Hex[]): { CATALOG_SIGNERS: string } {
  return { CATALOG_SIGNERS: (keys.length ? keys : [TEST_KEYS.signer]).map(signerAddress).join(',') };
}

export interface SampleOfferOptions {
  name?: string;
  namespace?: string;
  /** Shallow-merged over a valid spec (base-sepolia, 0.001 USDC per request). */
  spec?: Partial<ServiceOfferInput['spec']>;
  upstreamHealthy?: boolean;
  routePublished?: boolean;
  creationTimestamp?: string;
  /** The clock of the plan (drain phase at issue time); default now. */
  nowMs?: number;
}

function manifest(options: SampleOfferOptions): ServiceOfferInput {
  const name = options.name ?? 'qwen';
  return {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name, namespace: options.namespace ?? 'llm', creationTimestamp: options.creationTimestamp ?? '2026-01-01T00:00:00Z' },
    spec: {
      type: 'inference',
      model: { name: 'qwen3:0.6b', runtime: 'ollama' },
      upstream: { service: 'ollama', port: 11434 },
      payment: { network: 'base-sepolia', payTo: TEST_PAY_TO, price: { perRequest: '0.001' } },
      ...options.spec,
    },
  };
}

/** A snapshot entry exactly as the agent would build it. Throws when the options make it invalid. */
export function sampleOffer(options: SampleOfferOptions = {}): SnapshotOffer {
  const input = manifest(options);
  const parsed = parseServiceOffer(input);
  if (!parsed.ok) throw new Error(`sampleOffer: invalid offer: ${describeProblems(parsed.problems)}`);
  const plan = planCatalog({
    offers: [{ key: `${parsed.offer.metadata.namespace}/${parsed.offer.metadata.name}`, parsed }],
    observe: () => ({ upstreamHealthy: options.upstreamHealthy ?? true, routePublished: options.routePublished ?? true }),
    routeManagement: true,
    source: 'kube',
    nowMs: options.nowMs ?? Date.now(),
    declareBazaar,
  });
  const entry = plan.offers[0];
  if (!entry) throw new Error('sampleOffer: the plan produced no entry');
  return entry;
}

/** `count` offers with distinct names and paths, in (namespace, name) order. */
export function sampleOffers(count: number, options: Omit<SampleOfferOptions, 'name'> = {}): SnapshotOffer[] {
  return Array.from({ length: count }, (_, i) => sampleOffer({ ...options, name: `svc-${String(i).padStart(5, '0')}` }));
}

export interface MakeSnapshotOptions {
  offers?: SnapshotOffer[];
  sequence?: number;
  /** RFC 3339; default now. */
  issuedAt?: string;
  audience?: string;
  identity?: AgentIdentity;
}

export function makeSnapshot(options: MakeSnapshotOptions = {}): CatalogSnapshot {
  return {
    schemaVersion: '1',
    sequence: options.sequence ?? 1,
    issuedAt: options.issuedAt ?? formatRfc3339(Date.now()),
    audience: options.audience ?? TEST_PUBLIC_BASE_URL,
    identity: options.identity ?? { name: 'Test Seller', registrations: [] },
    offers: options.offers ?? [],
  };
}

/** The exact text that is signed and pushed. */
export function snapshotBody(snapshot: CatalogSnapshot): string {
  return JSON.stringify(snapshot);
}

export interface PushOptions {
  key?: Hex;
  /** Sent instead of a signature made with `key`; `null` sends no Obol-Signature header. */
  signature?: string | null;
  /** Extra or overriding headers (e.g. a different Content-Type). */
  headers?: Record<string, string>;
}

export async function pushSnapshot(edge: TestEdge, snapshot: CatalogSnapshot | string | Uint8Array, options: PushOptions = {}): Promise<Response> {
  const text = typeof snapshot === 'string' || snapshot instanceof Uint8Array ? snapshot : snapshotBody(snapshot);
  const body = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const signature = options.signature === undefined ? await signSnapshotBody({ body, privateKey: options.key ?? TEST_KEYS.signer }) : options.signature;
  return edge.fetch('/_obol/v1/catalog', {
    method: 'PUT',
    body,
    headers: {
      'Content-Type': 'application/json',
      ...(signature === null ? {} : { [SIGNATURE_HEADER]: signature }),
      ...options.headers,
    },
  });
}
