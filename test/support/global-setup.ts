import { bundleEdge } from './edge-bundle.js';

/** Build the worker bundle once per test run; every edge test starts workerd from it via Miniflare. */
export default async function setup(): Promise<void> {
  await bundleEdge();
}
