import { z } from 'zod';
import {
  CatalogSnapshot,
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_OFFERS,
  SNAPSHOT_SCHEMA_VERSION,
  SnapshotOffer,
  formatRfc3339,
  type AgentIdentity,
} from '../../../core/index.js';

/**
 * Build the catalog snapshot (SPEC §6) from planned offers, and encode it to the exact bytes that
 * are signed and pushed. The snapshot is validated against core `CatalogSnapshot` before it
 * leaves: the envelope and the offer count on every build, each offer entry against
 * `SnapshotOffer` once per entry object (the agent's planner keeps an unchanged offer's entry, so
 * a push at 10,000 offers checks only what changed instead of copying the whole catalog). An entry
 * the schema refuses is left out and reported, never a reason to publish nothing: one offer must
 * not stop the catalog (the edge would answer 503 everywhere).
 */

/** The snapshot without its offers, checked whole on every build. */
const Envelope = CatalogSnapshot.omit({ offers: true });
/** The offer count limit, with zod's own wording. */
const OfferCount = z.object({ offers: z.array(z.unknown()).max(MAX_SNAPSHOT_OFFERS) });
/** Entries that passed `SnapshotOffer`; entries are never mutated, so a pass holds for the object. */
const checkedEntries = new WeakSet<SnapshotOffer>();

export class SnapshotBuildError extends Error {
  readonly reason: 'invalid_snapshot' | 'snapshot_too_large';
  constructor(reason: 'invalid_snapshot' | 'snapshot_too_large', message: string) {
    super(message);
    this.name = 'SnapshotBuildError';
    this.reason = reason;
  }
}

export interface BuildSnapshotParams {
  readonly offers: readonly SnapshotOffer[];
  readonly identity: AgentIdentity;
  /** The edge's PUBLIC_BASE_URL. */
  readonly audience: string;
  readonly sequence: number;
  /** Epoch ms; written as RFC 3339 UTC to the second. */
  readonly issuedAtMs: number;
}

/** An offer the snapshot cannot carry: its key and why, field by field. */
export interface ExcludedOffer {
  readonly key: string;
  readonly reason: string;
}

export interface BuiltSnapshot {
  readonly snapshot: CatalogSnapshot;
  /** Entries the schema refused, left out of `snapshot`. */
  readonly excluded: readonly ExcludedOffer[];
}

/** Why `SnapshotOffer` refuses the entry, or undefined when it passes (a pass is remembered per entry object). */
export function snapshotEntryProblem(entry: SnapshotOffer): string | undefined {
  if (checkedEntries.has(entry)) return undefined;
  const checked = SnapshotOffer.safeParse(entry);
  if (!checked.success) return z.prettifyError(checked.error);
  checkedEntries.add(entry);
  return undefined;
}

/** The snapshot, or throws `SnapshotBuildError` when the envelope or the offer count is invalid. */
export function buildSnapshot(params: BuildSnapshotParams): CatalogSnapshot {
  return buildCatalogSnapshot(params).snapshot;
}

/** The snapshot and the entries left out of it; throws `SnapshotBuildError` when the envelope or the offer count is invalid. */
export function buildCatalogSnapshot(params: BuildSnapshotParams): BuiltSnapshot {
  const envelope = Envelope.safeParse({
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    sequence: params.sequence,
    issuedAt: formatRfc3339(params.issuedAtMs),
    audience: params.audience,
    identity: params.identity,
  });
  const count = OfferCount.safeParse({ offers: params.offers });
  if (!envelope.success || !count.success) {
    const issues = [...(envelope.error?.issues ?? []), ...(count.error?.issues ?? [])];
    throw new SnapshotBuildError('invalid_snapshot', `snapshot is not valid:\n${z.prettifyError({ issues })}`);
  }
  const excluded: ExcludedOffer[] = [];
  for (const offer of params.offers) {
    const reason = snapshotEntryProblem(offer);
    if (reason !== undefined) excluded.push({ key: typeof offer.key === 'string' ? offer.key : '(no key)', reason });
  }
  // The planned array itself when nothing is left out: no copy of a 10,000-offer catalog per push.
  const offers = excluded.length ? params.offers.filter((o) => checkedEntries.has(o)) : params.offers;
  return { snapshot: { ...envelope.data, offers: offers as SnapshotOffer[] }, excluded };
}

/** The exact UTF-8 bytes that are signed and sent. Throws when over the edge's size limit. */
export function encodeSnapshot(snapshot: CatalogSnapshot): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(snapshot));
  if (bytes.byteLength > MAX_SNAPSHOT_BYTES) {
    throw new SnapshotBuildError('snapshot_too_large', `snapshot is ${bytes.byteLength} bytes; the edge accepts at most ${MAX_SNAPSHOT_BYTES}`);
  }
  return bytes;
}
