import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EDGE_BUNDLE, edgeWorkerOptions } from './edge-bundle.js';

/**
 * Start the real edge worker in workerd through Miniflare's API. `persistDir` keeps Durable Object
 * state across instances (an edge "restart"); without it state lives in a fresh temp dir.
 */
export interface EdgeOptions {
  /** Over wrangler.toml's [vars] and the test defaults below; `undefined` unsets a setting. */
  vars?: Record<string, string | undefined>;
  persistDir?: string;
}

export interface TestEdge {
  readonly mf: Miniflare;
  readonly url: string;
  readonly persistDir: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export const TEST_PUBLIC_BASE_URL = 'https://edge.test';

/** The Durable Object bindings of the generated Env, i.e. wrangler.toml's. */
type DurableObjectBinding = { [K in keyof Cloudflare.Env]: Cloudflare.Env[K] extends string ? never : K }[keyof Cloudflare.Env];

/**
 * One of the running edge's Durable Object namespaces, typed with its class by the generated Env.
 * Miniflare's own namespace type names no class, so this is the one place that says which it is.
 */
export async function durableObjectNamespace<B extends DurableObjectBinding>(edge: TestEdge, binding: B): Promise<Cloudflare.Env[B]> {
  return (await edge.mf.getDurableObjectNamespace(binding)) as unknown as Cloudflare.Env[B];
}

export async function startEdge(options: EdgeOptions = {}): Promise<TestEdge> {
  const ownDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), 'obol-edge-'));
  const mf = new Miniflare({
    // The worker as wrangler.toml declares it; LOCAL_DEV=1 because test origins are on 127.0.0.1.
    ...edgeWorkerOptions(EDGE_BUNDLE, { LOCAL_DEV: '1', PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL, ...options.vars }),
    durableObjectsPersist: persistDir,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    mf,
    url,
    persistDir,
    // Go through the real HTTP listener: same path as a buyer's request.
    fetch: (path, init) => fetch(`${url}${path}`, init),
    async dispose() {
      await mf.dispose();
      if (ownDir) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
