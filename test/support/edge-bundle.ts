import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundle the worker the way wrangler does (ESM, workerd conditions), for Miniflare-driven tests and benches. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EDGE_BUNDLE = join(ROOT, 'dist', 'test-edge', 'index.js');

export async function bundleEdge(outfile = EDGE_BUNDLE): Promise<string> {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'edge', 'src', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
  });
  return outfile;
}
