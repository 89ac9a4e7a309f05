import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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
/** `.wasm` imports are compiled modules, as wrangler's default rules make them. */
export const EDGE_MODULES_RULES = [{ type: 'CompiledWasm' as const, include: ['**/*.wasm'] }];

/**
 * A `.wasm` import stays an import (Workers may not compile WebAssembly at run time): the file is
 * copied next to the bundle and Miniflare loads it as a compiled module (EDGE_MODULES_RULES).
 */
function compiledWasm(outdir: string): Plugin {
  return {
    name: 'compiled-wasm',
    setup(b) {
      b.onResolve({ filter: /\.wasm$/ }, (args) => {
        const source = resolve(args.resolveDir, args.path);
        copyFileSync(source, join(outdir, basename(source)));
        return { path: `./${basename(source)}`, external: true };
      });
    },
  };
}

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
    plugins: [compiledWasm(dirname(params.outfile)), ...(params.plugins ?? [])],
    logLevel: 'silent',
  });
  return params.outfile;
}

export async function bundleEdge(outfile = EDGE_BUNDLE): Promise<string> {
  return bundleWorker({ entry: join(ROOT, 'edge', 'src', 'index.ts'), outfile });
}
