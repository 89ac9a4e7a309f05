import type { Hono, MiddlewareHandler } from 'hono';
import { methodNotAllowed as honoMethodNotAllowed } from 'hono/method-not-allowed';
import type { AppEnv } from './app.js';

/**
 * Hono's 405 for a path of `app` that the request's method does not serve, with `Allow` listing
 * the methods `app` routes there (HEAD with GET) plus `alsoAllow` (e.g. OPTIONS answered by CORS
 * middleware), in the edge's JSON error shape. Register it with `app.use(path, …)` on exactly the
 * paths it guards, so no other request pays for it.
 */
export function methodNotAllowed(app: Hono<AppEnv>, alsoAllow: readonly string[] = []): MiddlewareHandler<AppEnv> {
  return honoMethodNotAllowed<AppEnv>({
    app,
    onMethodNotAllowed: (c, methods) => {
      const allow = [...methods, ...alsoAllow].join(', ');
      return c.json({ error: 'method_not_allowed', message: `use ${allow}` }, 405, { Allow: allow });
    },
  });
}
