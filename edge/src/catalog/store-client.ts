import type { Env } from '../env.js';
import type { CatalogStore } from './store.js';

/** The name of the single CatalogStore instance: one catalog per edge. */
export const CATALOG_STORE_NAME = 'catalog';

/** The CatalogStore stub, typed for RPC (kept apart from the class so plain Node can import callers). */
export function catalogStore(env: Env): DurableObjectStub<CatalogStore> {
  // env.ts types bindings without their class (it must not import the parts); the binding is this class.
  const namespace = env.CATALOG as unknown as DurableObjectNamespace<CatalogStore>;
  return namespace.get(namespace.idFromName(CATALOG_STORE_NAME));
}
