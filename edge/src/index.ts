import { createApp } from './app.js';
import { catalogChannel } from './catalog/channel.js';
import { discovery } from './discovery/routes.js';
import { gate } from './gate/routes.js';
import { metricsRoutes } from './metrics/routes.js';

export { CatalogStore } from './catalog/store.js';
export { NonceLedger } from './gate/nonce-ledger.js';
export { MetricsStore } from './metrics/store.js';

export default createApp({ catalogChannel, discovery, metrics: metricsRoutes, gate });
