export * from './base64-json.js';
export * from './challenge.js';
export * from './eip3009.js';
export * from './match.js';
export * from './payment-header.js';
export * from './reasons.js';
export * from './settlement.js';
