import {
  CatalogSnapshot,
  MAX_SNAPSHOT_BYTES,
  SNAPSHOT_SCHEMA_VERSION,
  formatRfc3339,
  type AgentIdentity,
  type SnapshotOffer,
} from '../../../core/index.js';

/**
 * Build the catalog snapshot (SPEC §6) from planned offers, and encode it to the exact bytes that
 * are signed and pushed. The snapshot is validated with core `CatalogSnapshot` before it leaves.
 */

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

export function buildSnapshot(params: BuildSnapshotParams): CatalogSnapshot {
  const parsed = CatalogSnapshot.safeParse({
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    sequence: params.sequence,
    issuedAt: formatRfc3339(params.issuedAtMs),
    audience: params.audience,
    identity: params.identity,
    offers: params.offers,
  });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SnapshotBuildError('invalid_snapshot', `snapshot is not valid: ${detail}`);
  }
  return parsed.data;
}

/** The exact UTF-8 bytes that are signed and sent. Throws when over the edge's size limit. */
export function encodeSnapshot(snapshot: CatalogSnapshot): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(snapshot));
  if (bytes.byteLength > MAX_SNAPSHOT_BYTES) {
    throw new SnapshotBuildError('snapshot_too_large', `snapshot is ${bytes.byteLength} bytes; the edge accepts at most ${MAX_SNAPSHOT_BYTES}`);
  }
  return bytes;
}
