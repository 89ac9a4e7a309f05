import type { DrainFields } from './drain-edit.js';

/** Where `sell` finds and edits offers: the cluster, or a directory of manifests. */

export interface OfferRecord {
  readonly namespace: string;
  readonly name: string;
  /** The whole object as stored (parsed later for display). */
  readonly object: unknown;
  readonly drain: DrainFields;
}

export interface SellTarget {
  /** Offers in `namespace`, or everywhere; sorted by namespace then name. */
  list(namespace?: string): Promise<OfferRecord[]>;
  /** One offer; throws `SellError('offer_not_found')`. */
  get(namespace: string, name: string): Promise<OfferRecord>;
  /** Write `drainAt`/`drainGracePeriod`, or remove both when `fields` is null. */
  setDrain(record: OfferRecord, fields: Required<DrainFields> | null): Promise<void>;
  /** The namespace used when `-n` is not given. */
  readonly defaultNamespace: string;
  /** Where an edit went, for the confirmation line. */
  where(record: OfferRecord): string;
}

/** Read the two drain fields from an unknown object's `spec`, ignoring anything malformed. */
export function drainFieldsOf(object: unknown): DrainFields {
  const spec = (object as { spec?: Record<string, unknown> } | null)?.spec;
  const pick = (key: string) => (typeof spec?.[key] === 'string' ? { [key]: spec[key] } : {});
  return { ...pick('drainAt'), ...pick('drainGracePeriod') } as DrainFields;
}

export function byNamespaceThenName(a: OfferRecord, b: OfferRecord): number {
  return a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1;
}
