import type { Env } from '../env.js';
import type { CatalogStore } from './store.js';

/** The name of the single CatalogStore instance: one catalog per edge. */
export const CATALOG_STORE_NAME = 'catalog';

/** The CatalogStore stub, typed for RPC (kept apart from the class so plain Node can import callers). */
export function catalogStore(env: Env): DurableObjectStub<CatalogStore> {
  return env.CATALOG.get(env.CATALOG.idFromName(CATALOG_STORE_NAME));
}
