import { CatalogSnapshot, type SnapshotOffer } from '../../../core/index.js';
import type { Env } from '../env.js';
import { describeIssues } from './push.js';
import type { StoredHead, StoredSnapshot } from './store.js';
import { catalogStore } from './store-client.js';
import type { CatalogView } from './view.js';

/**
 * The per-isolate catalog cache (SPEC §4): the isolate that accepted a push serves it at once;
 * every isolate re-reads the stored sequence (a cheap `head()` RPC) when its last check is a
 * second old or more, and reloads the body only when the stored snapshot changed.
 */

/** Re-check the store when the last check is at least this old. */
export const RECHECK_MS = 1000;

/** What the cache needs from the store; the real one is the CatalogStore Durable Object. */
export interface CatalogSource {
  head(): Promise<StoredHead | null>;
  read(): Promise<StoredSnapshot | null>;
}

/** A CatalogView plus the stored facts it came from. */
export interface LoadedCatalogView extends CatalogView {
  readonly issuedAt: string;
  /** Hex SHA-256 of the stored body bytes (a natural strong validator). */
  readonly sha256: string;
  readonly signature: string;
}

export class CatalogLoadError extends Error {
  readonly reason = 'catalog_load_failed';
  constructor(message: string) {
    super(message);
    this.name = 'CatalogLoadError';
  }
}

/** Build a view once per load: routes and memo live exactly as long as the view. */
export function buildView(snapshot: CatalogSnapshot, head: StoredHead): LoadedCatalogView {
  const routes = new Map<string, SnapshotOffer>(snapshot.offers.map((offer) => [offer.path, offer]));
  const memos = new Map<string, unknown>();
  return {
    snapshot,
    sequence: head.sequence,
    receivedAt: head.receivedAt,
    issuedAt: head.issuedAt,
    sha256: head.sha256,
    signature: head.signature,
    routes,
    memo<T>(key: string, build: () => T): T {
      if (memos.has(key)) return memos.get(key) as T;
      const value = build();
      memos.set(key, value);
      return value;
    },
  };
}

function parseStored(stored: StoredSnapshot): CatalogSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(stored.body));
  } catch (error) {
    throw new CatalogLoadError(`stored snapshot ${stored.head.sequence} is not JSON: ${String(error)}`);
  }
  const parsed = CatalogSnapshot.safeParse(json);
  if (!parsed.success) throw new CatalogLoadError(`stored snapshot ${stored.head.sequence} fails the schema: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** One isolate's cache. Exported as a class so tests drive it with their own clock and source. */
export class CatalogCache {
  private view: LoadedCatalogView | undefined;
  private checkedAtMs = Number.NEGATIVE_INFINITY;
  /** A stored body that failed to load; not re-read every second. */
  private unloadableSha: string | undefined;

  constructor(private readonly recheckMs: number = RECHECK_MS) {}

  /** The current view, re-checking the store first when the last check is `recheckMs` old. */
  async current(source: CatalogSource, nowMs: number): Promise<LoadedCatalogView | undefined> {
    if (this.view && nowMs - this.checkedAtMs < this.recheckMs) return this.view;
    try {
      await this.refresh(source, nowMs);
    } catch (error) {
      // Keep serving the last good catalog when the store cannot be reached or read.
      console.error(JSON.stringify({ level: 'error', msg: 'catalog refresh failed', error: String(error) }));
    }
    return this.view;
  }

  /** Install a snapshot this isolate just accepted, so it serves it at once. */
  install(snapshot: CatalogSnapshot, head: StoredHead, nowMs: number): LoadedCatalogView | undefined {
    if (!this.view || head.sequence > this.view.sequence) this.view = buildView(snapshot, head);
    this.checkedAtMs = nowMs;
    return this.view;
  }

  private async refresh(source: CatalogSource, nowMs: number): Promise<void> {
    const head = await source.head();
    if (!head || this.isCurrent(head) || head.sha256 === this.unloadableSha) {
      this.checkedAtMs = nowMs;
      return;
    }
    const stored = await source.read();
    if (!stored) return;
    try {
      this.install(parseStored(stored), stored.head, nowMs);
    } catch (error) {
      this.unloadableSha = stored.head.sha256;
      this.checkedAtMs = nowMs;
      throw error;
    }
  }

  /** The loaded view is as new as the stored head (a concurrent install may even be newer). */
  private isCurrent(head: StoredHead): boolean {
    return this.view !== undefined && this.view.sequence >= head.sequence;
  }
}

const isolateCache = new CatalogCache();

function storeSource(env: Env): CatalogSource {
  // A stub is bound to the request that made it, so each request gets its own, made only when the
  // cache actually asks the store (deriving a Durable Object id is not free on the hot path).
  let store: ReturnType<typeof catalogStore> | undefined;
  const stub = () => (store ??= catalogStore(env));
  return { head: () => stub().head(), read: () => stub().read() };
}

/** The last accepted snapshot as this isolate sees it; undefined until a snapshot was accepted. */
export function currentCatalog(env: Env, nowMs: number = Date.now()): Promise<LoadedCatalogView | undefined> {
  return isolateCache.current(storeSource(env), nowMs);
}

/** Called by the channel after the store accepted a push. */
export function installAcceptedSnapshot(snapshot: CatalogSnapshot, head: StoredHead, nowMs: number = Date.now()): void {
  isolateCache.install(snapshot, head, nowMs);
}
