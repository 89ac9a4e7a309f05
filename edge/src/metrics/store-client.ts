import type { Env } from '../env.js';
import type { MetricsStore } from './store.js';

export const METRICS_STORE_NAME = 'metrics';

/** The one MetricsStore instance. */
export function metricsStore(env: Env): DurableObjectStub<MetricsStore> {
  return env.METRICS.getByName(METRICS_STORE_NAME);
}
