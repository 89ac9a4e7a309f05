import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPATIBILITY_DATE, EDGE_BUNDLE, EDGE_DURABLE_OBJECTS, EDGE_MODULES_RULES } from './edge-bundle.js';

/**
 * Start the real edge worker in workerd through Miniflare's API. `persistDir` keeps Durable Object
 * state across instances (an edge "restart"); without it state lives in a fresh temp dir.
 */
export interface EdgeOptions {
  vars?: Record<string, string>;
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

export async function startEdge(options: EdgeOptions = {}): Promise<TestEdge> {
  const ownDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), 'obol-edge-'));
  const mf = new Miniflare({
    modules: true,
    scriptPath: EDGE_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    modulesRules: EDGE_MODULES_RULES,
    durableObjects: EDGE_DURABLE_OBJECTS,
    durableObjectsPersist: persistDir,
    bindings: { PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL, VERIFY_MODE: 'facilitator', ...options.vars },
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
