import { build } from 'esbuild';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The agent image's single file: `tsx cluster-agent/deploy/bundle.ts <outfile>` (the Dockerfile
 * runs it; `bench/agent` runs the same function, so the bench measures the agent as deployed).
 * Two esbuild steps: transpile every module first (the CLI loads commands with a glob-style
 * dynamic import, `./commands/${name}.js`, which esbuild only bundles when those .js files
 * exist), then bundle into one ESM file; createRequire serves the CommonJS dependencies.
 * Whitespace and comments are dropped (identifiers kept, for readable stack traces): the source
 * text stays in the heap for the process's life, and dependencies' comments hold non-Latin-1
 * characters that would make it a two-byte string (8 MiB instead of 2.7 MiB).
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['core', join('cluster-agent', 'src')];

function typescriptSources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typescriptSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Build the bundle into `outfile`; resolves with its path. */
export async function bundleAgent(outfile: string): Promise<string> {
  const staging = mkdtempSync(join(tmpdir(), 'obol-agent-bundle-'));
  try {
    await build({
      entryPoints: SOURCES.flatMap(typescriptSources).map((file) => join(ROOT, file)),
      outdir: staging,
      outbase: ROOT,
      format: 'esm',
      platform: 'node',
      logLevel: 'warning',
    });
    await build({
      entryPoints: [join(staging, 'cluster-agent', 'src', 'cli', 'main.js')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      outfile,
      // The staged modules sit outside the repository: resolve packages from its node_modules.
      nodePaths: [join(ROOT, 'node_modules')],
      minifyWhitespace: true,
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
    });
    return outfile;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const outfile = process.argv[2];
  if (!outfile) {
    process.stderr.write('usage: tsx cluster-agent/deploy/bundle.ts <outfile>\n');
    process.exit(2);
  }
  bundleAgent(outfile).then(
    (path) => process.stdout.write(`bundled the agent into ${path}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
