import { Hono } from 'hono';
import type { AppEnv } from '../app.js';
import { currentCatalog } from '../catalog/cache.js';
import type { Env } from '../env.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import { offerLabels } from './recorder.js';
import { metricsStore } from './store-client.js';

/**
 * `GET /_obol/v1/metrics` (SPEC §8): the edge-wide totals in Prometheus text format, behind
 * `Authorization: Bearer <METRICS_TOKEN>`. No token configured → 403 `metrics_disabled` (fail
 * closed); missing or wrong token → 401. Series of offers not in the current snapshot are dropped.
 */
export const metricsRoutes = new Hono<AppEnv>();

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(value));
}

/** Constant-time: compare fixed-length digests so neither length nor content leaks through timing. */
async function tokenMatches(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

async function readTotals(env: Env) {
  const store = metricsStore(env);
  const view = await currentCatalog(env);
  // Before any snapshot there is nothing to prune against: expose nothing, delete nothing.
  if (!view) return [];
  return store.read(view.snapshot.offers.map(offerLabels));
}

metricsRoutes.get('/metrics', async (c) => {
  c.header('Cache-Control', 'no-store');
  const expected = c.env.METRICS_TOKEN ?? '';
  if (expected === '') {
    return c.json({ error: 'metrics_disabled', reason: 'metrics_token_not_configured', message: 'set the METRICS_TOKEN secret to enable /_obol/v1/metrics' }, 403);
  }
  const presented = bearerToken(c.req.header('Authorization'));
  if (presented === undefined || !(await tokenMatches(presented, expected))) {
    c.header('WWW-Authenticate', 'Bearer realm="obol-edge-metrics"');
    return c.json({ error: 'unauthorized', reason: 'invalid_metrics_token' }, 401);
  }
  const samples = await readTotals(c.env);
  return c.body(renderExposition(samples), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
});
