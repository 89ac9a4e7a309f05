import { Hono } from 'hono';
import type { Env } from './env.js';
import { ConfigError } from './env.js';

/**
 * The edge: one Hono app with separate sub-apps for the snapshot channel, the discovery documents,
 * the metrics endpoint and the x402 gate. Each is readable and testable alone.
 */
export type AppEnv = { Bindings: Env };

export function createApp(parts: {
  catalogChannel: Hono<AppEnv>;
  discovery: Hono<AppEnv>;
  metrics: Hono<AppEnv>;
  gate: Hono<AppEnv>;
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.route('/_obol/v1', parts.catalogChannel);
  app.route('/_obol/v1', parts.metrics);
  app.route('/', parts.discovery);
  app.route('/services', parts.gate);
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    if (error instanceof ConfigError) {
      console.error(JSON.stringify({ level: 'error', msg: 'edge misconfigured', setting: error.setting, error: error.message }));
      return c.json({ error: 'edge_misconfigured', reason: error.reason, message: error.message }, 500);
    }
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', error: String(error) }));
    return c.json({ error: 'internal_error' }, 500);
  });
  return app;
}
