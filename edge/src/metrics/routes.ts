import { Hono, type Context } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { HTTPException } from 'hono/http-exception';
import { sha256Hex } from '../../../core/sha256.js';
import type { AppEnv } from '../app.js';
import { currentCatalog } from '../catalog/cache.js';
import type { Env } from '../env.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import { optionLabels } from './recorder.js';
import { metricsStore } from './store-client.js';

/**
 * `GET /_obol/v1/metrics` (SPEC §8): the edge-wide totals in Prometheus text format, behind
 * `Authorization: Bearer <METRICS_TOKEN>` (Hono's bearer auth). No token configured → 403
 * `metrics_disabled` (fail closed); missing, malformed or wrong token → 401. Series of offers not
 * in the current snapshot are dropped.
 */
export const metricsRoutes = new Hono<AppEnv>();

const encoder = new TextEncoder();

/** Over fixed-length digests: Hono's own comparison takes as long as the longer token, which leaks the length. */
async function tokenMatches(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(presented), sha256Hex(expected)]);
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

/** Every refusal is one 401 (Hono answers a malformed header 400): the scraper only needs to know it is not let in. */
function unauthorized(c: Context): Response {
  return c.json({ error: 'unauthorized', reason: 'invalid_metrics_token' }, 401);
}
const refusal = { message: unauthorized, wwwAuthenticateHeader: 'Bearer realm="obol-edge-metrics"' };

async function readTotals(env: Env) {
  const store = metricsStore(env);
  const view = await currentCatalog(env);
  // Before any snapshot there is nothing to prune against: expose nothing, delete nothing.
  if (!view) return [];
  return store.read(view.snapshot.offers.flatMap(optionLabels));
}

metricsRoutes.use('/metrics', methodNotAllowed(metricsRoutes));
metricsRoutes.get(
  '/metrics',
  async (c, next) => {
    c.header('Cache-Control', 'no-store');
    if (!c.env.METRICS_TOKEN) {
      return c.json({ error: 'metrics_disabled', reason: 'metrics_token_not_configured', message: 'set the METRICS_TOKEN secret to enable /_obol/v1/metrics' }, 403);
    }
    await next();
  },
  bearerAuth<AppEnv>({
    verifyToken: (token, c) => tokenMatches(token, c.env.METRICS_TOKEN ?? ''),
    noAuthenticationHeader: refusal,
    invalidAuthenticationHeader: refusal,
    invalidToken: refusal,
  }),
  async (c) => c.body(renderExposition(await readTotals(c.env)), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE }),
);

// bearerAuth refuses by throwing its answer; the app's error handler must not turn it into a 500.
metricsRoutes.onError((error) => {
  if (error instanceof HTTPException) return error.getResponse();
  throw error;
});
