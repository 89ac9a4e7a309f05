import type { Env } from '../env.js';
import type { MetricsStore } from './store.js';

export const METRICS_STORE_NAME = 'metrics';

/** The one MetricsStore instance. The binding is untyped in Env, so the RPC surface is asserted here once. */
export function metricsStore(env: Env): DurableObjectStub<MetricsStore> {
  const namespace = env.METRICS as unknown as DurableObjectNamespace<MetricsStore>;
  return namespace.getByName(METRICS_STORE_NAME);
}
