import type { CatalogSnapshot, SnapshotOffer } from '../../../core/index.js';

/**
 * The per-isolate view of the last accepted snapshot, shared by discovery and the gate.
 * Implemented in `catalog/cache.ts`; this file is only its contract.
 */
export interface CatalogView {
  readonly snapshot: CatalogSnapshot;
  readonly sequence: number;
  /** RFC 3339, when the edge accepted it. */
  readonly receivedAt: string;
  /** Offer path → entry, for `matchLongestPrefix`. */
  readonly routes: ReadonlyMap<string, SnapshotOffer>;
  /**
   * Per-isolate memo for data derived from this snapshot (rendered documents, route tables);
   * it lives exactly as long as this view, so a new snapshot invalidates it.
   */
  memo<T>(key: string, build: () => T): T;
}
