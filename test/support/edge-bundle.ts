import { build, type Plugin } from 'esbuild';
import type { Json, ModuleRule, WorkerOptions } from 'miniflare';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundle the worker the way wrangler does (ESM, workerd conditions), for Miniflare-driven tests and benches. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EDGE_BUNDLE = join(ROOT, 'dist', 'test-edge', 'index.js');
export const WRANGLER_CONFIG = join(ROOT, 'wrangler.toml');

/**
 * The edge as wrangler reads wrangler.toml, in Miniflare's terms: the one list of its Durable
 * Objects, compatibility date, module rules (`.wasm` → compiled module) and [vars].
 */
export interface EdgeWorkerConfig {
  readonly main: string;
  readonly compatibilityDate: string;
  readonly compatibilityFlags: string[];
  readonly modulesRules: ModuleRule[];
  readonly durableObjects: NonNullable<WorkerOptions['durableObjects']>;
  readonly vars: Record<string, Json>;
}

/** wrangler's own reading of wrangler.toml. Loading wrangler takes ~3 s, so bundleEdge saves it beside the bundle. */
export async function readEdgeWorkerConfig(): Promise<EdgeWorkerConfig> {
  const wrangler = await import('wrangler');
  const config = wrangler.unstable_readConfig({ config: WRANGLER_CONFIG });
  const { workerOptions, main } = wrangler.unstable_getMiniflareWorkerOptions(config);
  if (!main || !config.compatibility_date) throw new Error(`${WRANGLER_CONFIG} names no main module or compatibility_date`);
  return {
    main,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    modulesRules: workerOptions.modulesRules ?? [],
    durableObjects: workerOptions.durableObjects ?? {},
    // [vars] only: wrangler also merges a developer's .dev.vars into its bindings, which must not reach tests.
    vars: config.vars as Record<string, Json>,
  };
}

function configPathOf(scriptPath: string): string {
  return scriptPath.replace(/\.js$/, '.wrangler.json');
}

/** The config bundleEdge saved beside `scriptPath`. */
export function edgeWorkerConfig(scriptPath: string = EDGE_BUNDLE): EdgeWorkerConfig {
  return JSON.parse(readFileSync(configPathOf(scriptPath), 'utf8')) as EdgeWorkerConfig;
}

/**
 * Miniflare options for a bundle from bundleEdge: the worker as wrangler.toml declares it, with
 * `vars` over its [vars] (an `undefined` value removes a setting).
 */
export function edgeWorkerOptions(scriptPath: string, vars: Readonly<Record<string, string | undefined>> = {}) {
  const config = edgeWorkerConfig(scriptPath);
  const bindings: Record<string, Json> = { ...config.vars };
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete bindings[key];
    else bindings[key] = value;
  }
  return {
    modules: true as const,
    scriptPath,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    modulesRules: config.modulesRules,
    durableObjects: config.durableObjects,
    bindings,
  };
}

/**
 * A `.wasm` import stays an import (Workers may not compile WebAssembly at run time): the file is
 * copied next to the bundle and Miniflare loads it as a compiled module (wrangler's CompiledWasm rule).
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

/** Bundle wrangler.toml's `main` and save wrangler's reading of the config beside it (edgeWorkerOptions). */
export async function bundleEdge(outfile = EDGE_BUNDLE): Promise<string> {
  const config = await readEdgeWorkerConfig();
  await bundleWorker({ entry: config.main, outfile });
  writeFileSync(configPathOf(outfile), `${JSON.stringify(config, null, 2)}\n`);
  return outfile;
}
