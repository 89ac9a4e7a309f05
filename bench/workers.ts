import type { Plugin } from 'esbuild';
import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleEdge, bundleWorker, edgeWorkerConfig, edgeWorkerOptions, ROOT } from '../test/support/edge-bundle.js';

/**
 * Workers under test, each in workerd through Miniflare's API directly (not `wrangler dev`, whose
 * proxy worker hides the worker's own cost; see TOOLCHAIN.md "Benchmarks").
 */
export const BENCH_PUBLIC_BASE_URL = 'https://edge.bench';
const BENCH_DIST = join(ROOT, 'dist', 'bench');
const BENCH_EDGE = join(BENCH_DIST, 'edge.js');
/** The other workers run on the edge's compatibility date (wrangler.toml's, saved by bundleWorkers). */
const compatibilityDate = (): string => edgeWorkerConfig(BENCH_EDGE).compatibilityDate;

export interface RunningWorker {
  readonly url: string;
  dispose(): Promise<void>;
}

// Worker console output would cost the bench process time; drop it.
const quiet = { handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => { stdout.resume(); stderr.resume(); } };

async function ready(mf: Miniflare, cleanup?: () => void): Promise<RunningWorker> {
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    url,
    async dispose() {
      await mf.dispose();
      cleanup?.();
    },
  };
}

// The middleware imports the bazaar extension only for routes that declare it (the bench's do not);
// its dependencies need Node builtins, so it is replaced by an inert module.
const noBazaar: Plugin = {
  name: 'no-bazaar',
  setup(b) {
    b.onResolve({ filter: /^@x402\/extensions/ }, (args) => ({ path: args.path, namespace: 'no-bazaar' }));
    b.onLoad({ filter: /.*/, namespace: 'no-bazaar' }, () => ({
      contents: 'export const bazaarResourceServerExtension = undefined; export function validateBazaarRouteExtensions() {}',
      loader: 'js',
    }));
  },
};

export async function bundleWorkers(): Promise<{ edge: string; official: string }> {
  const edge = await bundleEdge(BENCH_EDGE);
  const official = join(BENCH_DIST, 'official-worker.js');
  await bundleWorker({ entry: join(ROOT, 'bench', 'official-worker.ts'), outfile: official, plugins: [noBazaar] });
  return { edge, official };
}

/** Our edge as wrangler.toml declares it, its Durable Objects in a fresh temp dir; LOCAL_DEV=1 for the loopback origin. */
export async function startOurEdge(scriptPath: string, vars: Record<string, string>): Promise<RunningWorker> {
  const persist = mkdtempSync(join(tmpdir(), 'obol-bench-'));
  const mf = new Miniflare({
    ...edgeWorkerOptions(scriptPath, { LOCAL_DEV: '1', PUBLIC_BASE_URL: BENCH_PUBLIC_BASE_URL, ...vars }),
    durableObjectsPersist: persist,
    ...quiet,
  });
  return ready(mf, () => rmSync(persist, { recursive: true, force: true }));
}

export interface ConstantResponse {
  path: string;
  status: number;
  headers: Record<string, string>;
  /** Text, or base64 of already content-encoded bytes when `bodyEncoding` is "base64". */
  body: string;
  bodyEncoding?: 'base64';
}

export async function startConstantWorker(responses: ConstantResponse[]): Promise<RunningWorker> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(ROOT, 'bench', 'constant-worker.js'),
    compatibilityDate: compatibilityDate(),
    bindings: { RESPONSES: JSON.stringify(responses) },
    ...quiet,
  });
  return ready(mf);
}

export async function startOfficialWorker(scriptPath: string, vars: { FACILITATOR_URL: string; ORIGIN_URL: string; PAY_TO: string; PRICE: string }): Promise<RunningWorker> {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: ['nodejs_compat'],
    bindings: vars,
    ...quiet,
  });
  return ready(mf);
}

/**
 * A response captured from a worker as raw wire bytes (no content decoding: our edge serves
 * pre-compressed documents), to be replayed byte for byte by the constant worker.
 */
export function capture(url: string, path: string): Promise<ConstantResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (typeof value === 'string' && !['content-length', 'date', 'transfer-encoding', 'connection', 'keep-alive'].includes(key)) headers[key] = value;
        }
        const raw = Buffer.concat(chunks);
        const encoded = headers['content-encoding'] !== undefined;
        resolve({ path, status: res.statusCode ?? 0, headers, body: encoded ? raw.toString('base64') : raw.toString('utf8'), ...(encoded ? { bodyEncoding: 'base64' as const } : {}) });
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`capture ${path} timed out`)));
    req.end();
  });
}
