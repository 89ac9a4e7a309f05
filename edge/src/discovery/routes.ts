import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app.js';
import { currentCatalog } from '../catalog/cache.js';
import { publicBaseUrl } from '../env.js';
import { CATALOG_PAGE_PATH } from '../../../core/render/catalog-html.js';
import { SERVICES_PATH } from '../../../core/render/skill-md.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { HTML_TYPE, JSON_TYPE, preferredType } from '../pages/accept.js';
import { CATALOG_DOCUMENTS, catalogDocument, SCHEMA_DOCUMENTS, schemaDocument, type CatalogDocumentPath, type RenderedDocument, type SchemaDocumentPath } from './documents.js';
import { cacheControl, ifNoneMatchHits, MAX_AGE_SECONDS } from './freshness.js';

/**
 * The public discovery documents (SPEC §4), mounted at `/`: GET (and HEAD, which Hono answers
 * from the GET handler without a body) and CORS preflight for exactly these paths.
 */

const publicCors = cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'OPTIONS'], exposeHeaders: ['ETag'], maxAge: 86_400 });

function serve(c: Context<AppEnv>, document: RenderedDocument, cacheControlValue: string): Response {
  c.header('ETag', document.etag);
  c.header('Cache-Control', cacheControlValue);
  c.header('X-Content-Type-Options', 'nosniff');
  for (const [name, value] of Object.entries(document.headers ?? {})) c.header(name, value);
  if (ifNoneMatchHits(c.req.header('If-None-Match'), document.etag)) return c.body(null, 304);
  c.header('Content-Type', document.contentType);
  return c.body(document.body, 200);
}

async function serveCatalogDocument(c: Context<AppEnv>, path: CatalogDocumentPath): Promise<Response> {
  const baseUrl = publicBaseUrl(c.env);
  const nowMs = Date.now();
  const view = await currentCatalog(c.env, nowMs);
  if (!view) {
    c.header('Cache-Control', 'no-store');
    return c.json({ error: 'catalog_unavailable' }, 503);
  }
  const { document, nextTransitionMs } = await catalogDocument({ view, path, baseUrl, nowMs });
  return serve(c, document, cacheControl(nowMs, nextTransitionMs));
}

export const discovery = new Hono<AppEnv>();
// CORS answers every OPTIONS (a preflight), so Allow lists it beside the routes' GET and HEAD.
const otherMethods = methodNotAllowed(discovery, ['OPTIONS']);

/** `/` is the catalog page for people; a client that prefers JSON to HTML is sent to the JSON catalog. */
const jsonClientsToServices: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (preferredType(c.req.header('Accept'), [HTML_TYPE, JSON_TYPE]) !== JSON_TYPE) return next();
  c.header('Vary', 'Accept');
  c.header('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
  return c.redirect(SERVICES_PATH, 303);
};

for (const path of Object.keys(CATALOG_DOCUMENTS) as CatalogDocumentPath[]) {
  discovery.use(path, otherMethods, publicCors);
  if (path === CATALOG_PAGE_PATH) discovery.get(path, jsonClientsToServices);
  discovery.get(path, (c) => serveCatalogDocument(c, path));
}

for (const path of Object.keys(SCHEMA_DOCUMENTS) as SchemaDocumentPath[]) {
  discovery.use(path, otherMethods, publicCors);
  discovery.get(path, async (c) => serve(c, await schemaDocument(path), `public, max-age=${MAX_AGE_SECONDS}`));
}
