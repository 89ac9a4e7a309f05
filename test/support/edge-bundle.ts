import { build, type Plugin } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundle the worker the way wrangler does (ESM, workerd conditions), for Miniflare-driven tests and benches. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EDGE_BUNDLE = join(ROOT, 'dist', 'test-edge', 'index.js');

/** The worker's Durable Object bindings and compatibility date, as wrangler.toml declares them, for Miniflare. */
export const EDGE_DURABLE_OBJECTS = {
  CATALOG: { className: 'CatalogStore', useSQLite: true },
  NONCES: { className: 'NonceLedger', useSQLite: true },
  METRICS: { className: 'MetricsStore', useSQLite: true },
} as const;
export const COMPATIBILITY_DATE = '2026-04-01';

/** Bundle any worker entry for workerd (ESM, workerd conditions). */
export async function bundleWorker(params: { entry: string; outfile: string; plugins?: Plugin[] }): Promise<string> {
  mkdirSync(dirname(params.outfile), { recursive: true });
  await build({
    entryPoints: [params.entry],
    outfile: params.outfile,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    plugins: params.plugins ?? [],
    logLevel: 'silent',
  });
  return params.outfile;
}

export async function bundleEdge(outfile = EDGE_BUNDLE): Promise<string> {
  return bundleWorker({ entry: join(ROOT, 'edge', 'src', 'index.ts'), outfile });
}
