/** The shared core: pure functions over plain data, imported by the edge and the agent alike. */
export * from './networks.js';
export * from './price.js';
export * from './time.js';
export * from './drain.js';
export * from './offer.js';
export * from './offer-rules.js';
export * from './requirement.js';
export * from './paths.js';
export * from './published.js';
export * from './snapshot.js';
export * from './catalog-plan.js';
export * from './offer-state.js';
