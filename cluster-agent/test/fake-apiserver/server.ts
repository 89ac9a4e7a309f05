import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { apiVersionOf, findResource, parsePath, type ResourceTarget } from './resources.js';
import { ApiError, badRequest } from './status.js';
import { ObjectStore } from './store.js';
import { applyMergePatch, isObject, type Json, type JsonObject } from './patch.js';
import { serveWatch, type OpenWatch } from './watch.js';

/**
 * An in-process stand-in for kube-apiserver that serves ServiceOffers, kept for fault injection
 * (and the agent benchmark's fake-vs-real comparison); what it models, and what it does not, is in
 * README.md. Tests that only need Kubernetes use the real control plane (test/kube/).
 */

export interface FakeApiServerOptions {
  /** Namespaces that exist at start (default `default`, `kube-system`, `obol-system`). */
  readonly namespaces?: readonly string[];
  /** Events kept for watch resumption (the compaction window); default 1000. */
  readonly historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them; default 1000 ms. */
  readonly bookmarkIntervalMs?: number;
  /** Bearer token the server demands; default `fake-token`. */
  readonly token?: string;
  readonly now?: () => number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType?: string;
}

/** Direct store access for tests, bypassing the HTTP API (writes still advance resourceVersion). */
export interface FakeStore {
  get(plural: string, namespace: string | undefined, name: string): JsonObject | undefined;
  list(plural: string, namespace?: string): JsonObject[];
  put(plural: string, object: JsonObject): JsonObject;
  delete(plural: string, namespace: string | undefined, name: string): boolean;
  resourceVersion(): string;
  /** Forget the event history: watches resuming from an older resourceVersion get 410 Expired. */
  compact(): void;
}

export interface FakeFaults {
  /** End every open watch stream (the client sees the connection close). */
  dropWatches(): void;
  /** The next `/status` write answers 409 Conflict. */
  conflictNextStatusWrite(): void;
  /** The next `n` requests (any kind) answer 500 InternalError. */
  failNextRequests(n: number): void;
  /** Send a BOOKMARK now on every open watch that allows bookmarks. */
  sendBookmarks(): void;
  /** From now on, requests for this resource (e.g. `leases`) are read and never answered, as over a stalled connection. */
  stallRequests(plural: string): void;
}

export interface FakeApiServer {
  readonly url: string;
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly store: FakeStore;
  readonly faults: FakeFaults;
  readonly requests: RecordedRequest[];
  openWatches(): number;
  stop(): Promise<void>;
}

const MERGE_PATCH = 'application/merge-patch+json';

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
}

class Handler {
  readonly watches = new Set<OpenWatch>();
  readonly requests: RecordedRequest[] = [];
  readonly stalled = new Set<string>();
  failuresLeft = 0;

  constructor(
    readonly store: ObjectStore,
    private readonly token: string,
    private readonly bookmarkIntervalMs: number,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, ...(contentType ? { contentType } : {}) });
    if (!this.authorized(req.headers.authorization)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new ApiError(500, 'InternalError', 'Internal error occurred: injected fault');
    }
    const target = parsePath(url.pathname);
    if (!target) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (this.stalled.has(target.def.plural)) return void req.resume();
    await this.resource(target, req, res, url.searchParams, contentType ?? '');
  }

  private authorized(header: string | undefined): boolean {
    const expected = Buffer.from(`Bearer ${this.token}`);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async resource(target: ResourceTarget, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, contentType: string): Promise<void> {
    const { def, namespace, name } = target;
    const status = target.subresource === 'status';
    if (name === undefined) {
      if (req.method === 'GET') return this.collection(target, res, query);
      if (req.method === 'POST') return send(res, 201, this.store.create(def, namespace, await readBody(req)));
      throw methodNotAllowed(req.method ?? '');
    }
    switch (req.method) {
      case 'GET':
        return send(res, 200, this.store.mustGet(def, namespace, name));
      case 'PUT':
        return send(res, 200, this.store.update(def, namespace, name, await readBody(req), status));
      case 'PATCH': {
        // Only merge patches (what the agent's finalizer writes and `sell` send); the real server takes more.
        if (contentType !== MERGE_PATCH) throw new ApiError(415, 'UnsupportedMediaType', `the fake API server accepts only ${MERGE_PATCH}, not "${contentType}"`);
        const body = await readBody(req);
        if (!isObject(body)) throw badRequest('a merge patch must be a JSON object');
        const patched = applyMergePatch(this.store.mustGet(def, namespace, name), body as Json);
        return send(res, 200, this.store.update(def, namespace, name, patched, status));
      }
      default:
        throw methodNotAllowed(req.method ?? '');
    }
  }

  private collection(target: ResourceTarget, res: ServerResponse, query: URLSearchParams): void {
    for (const unsupported of ['labelSelector', 'fieldSelector', 'limit', 'continue']) {
      if (query.has(unsupported)) throw badRequest(`the fake API server does not support ${unsupported}`);
    }
    const watch = query.get('watch');
    if (watch === 'true' || watch === '1') {
      serveWatch(this.store, target, { resourceVersion: query.get('resourceVersion'), allowWatchBookmarks: query.get('allowWatchBookmarks') === 'true' }, res, this.bookmarkIntervalMs, this.watches);
      return;
    }
    const items = this.store.list(target.def, target.namespace);
    send(res, 200, { kind: `${target.def.kind}List`, apiVersion: apiVersionOf(target.def), metadata: { resourceVersion: String(this.store.currentRv()) }, items });
  }
}

function errorBody(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
}

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const store = new ObjectStore({ historyLimit: options.historyLimit ?? 1000, now: options.now ?? Date.now });
  for (const ns of options.namespaces ?? ['default', 'kube-system', 'obol-system']) store.create(findResource('namespaces'), undefined, { metadata: { name: ns } });
  const token = options.token ?? 'fake-token';
  const handler = new Handler(store, token, options.bookmarkIntervalMs ?? 1000);
  const server = createServer((req, res) => {
    handler.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      const apiError = errorBody(err);
      send(res, apiError.code, apiError.toStatus());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: 'default' }],
    currentContext: 'fake',
  });
  const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-'));
  const kubeconfigPath = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  return {
    url,
    kubeConfig,
    kubeconfigPath,
    requests: handler.requests,
    openWatches: () => handler.watches.size,
    store: {
      get: (plural, namespace, name) => store.get(findResource(plural), namespace, name),
      list: (plural, namespace) => store.list(findResource(plural), namespace),
      put: (plural, object) => store.put(plural, object),
      delete: (plural, namespace, name) => store.remove(plural, namespace, name),
      resourceVersion: () => String(store.currentRv()),
      compact: () => store.compact(),
    },
    faults: {
      dropWatches: () => [...handler.watches].forEach((w) => w.end()),
      conflictNextStatusWrite: () => void (store.conflictNextStatusWrite = true),
      failNextRequests: (n) => void (handler.failuresLeft = n),
      sendBookmarks: () => handler.watches.forEach((w) => w.bookmark()),
      stallRequests: (plural) => void handler.stalled.add(findResource(plural).plural),
    },
    stop: async () => {
      handler.watches.forEach((w) => w.end());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
