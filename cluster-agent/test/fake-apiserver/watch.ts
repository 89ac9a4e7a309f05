import type { ServerResponse } from 'node:http';
import type { ResourceTarget } from './resources.js';
import { apiVersionOf } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { ObjectStore, StoredEvent } from './store.js';
import type { JsonObject } from './patch.js';

export interface WatchQuery {
  readonly resourceVersion: string | null;
  readonly allowWatchBookmarks: boolean;
  readonly timeoutSeconds: number | null;
  readonly filter: (obj: JsonObject) => boolean;
}

/** An open watch stream; `bookmark()` and `end()` are how the server and fault injection drive it. */
export interface OpenWatch {
  bookmark(): void;
  end(): void;
}

function write(res: ServerResponse, type: string, object: unknown): void {
  // An ended stream stays registered until its 'close' event; a write in between must be a no-op.
  if (res.writableEnded) return;
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/** Translate a stored event into what this watch sees, honouring namespace and selectors. */
function visible(event: StoredEvent, target: ResourceTarget, query: WatchQuery): { type: string; object: JsonObject } | undefined {
  if (event.def !== target.def) return undefined;
  const ns = (o: JsonObject | undefined) => (o?.metadata as JsonObject | undefined)?.namespace;
  if (target.namespace !== undefined && ns(event.object) !== target.namespace) return undefined;
  const now = query.filter(event.object);
  if (event.type !== 'MODIFIED') return now ? { type: event.type, object: event.object } : undefined;
  const before = event.previous ? query.filter(event.previous) : false;
  if (now && before) return { type: 'MODIFIED', object: event.object };
  if (now) return { type: 'ADDED', object: event.object };
  if (before) return { type: 'DELETED', object: event.object };
  return undefined;
}

/**
 * Stream newline-delimited watch events. Headers are flushed at once (the client awaits them); an
 * expired resourceVersion yields a single ERROR event carrying a 410 Status, then the stream ends.
 */
export function serveWatch(store: ObjectStore, target: ResourceTarget, query: WatchQuery, res: ServerResponse, bookmarkIntervalMs: number, registry: Set<OpenWatch>): void {
  const raw = query.resourceVersion ?? '';
  const fromRv = raw === '' || raw === '0' ? undefined : Number(raw);
  if (fromRv !== undefined && !Number.isSafeInteger(fromRv)) throw badRequest(`invalid resource version "${raw}"`);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  let backlog: StoredEvent[] = [];
  try {
    if (fromRv !== undefined) backlog = store.eventsSince(fromRv, raw);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    write(res, 'ERROR', err.toStatus());
    res.end();
    return;
  }
  if (fromRv === undefined) {
    for (const obj of store.list(target.def, target.namespace).filter(query.filter)) write(res, 'ADDED', obj);
  }
  for (const event of backlog) {
    const seen = visible(event, target, query);
    if (seen) write(res, seen.type, seen.object);
  }
  const unsubscribe = store.subscribe((event) => {
    const seen = visible(event, target, query);
    if (seen) write(res, seen.type, seen.object);
  });
  const watch: OpenWatch = {
    bookmark: () => {
      if (!query.allowWatchBookmarks) return;
      write(res, 'BOOKMARK', { kind: target.def.kind, apiVersion: apiVersionOf(target.def), metadata: { resourceVersion: String(store.currentRv()) } });
    },
    end: () => res.end(),
  };
  registry.add(watch);
  const timers = [setInterval(watch.bookmark, bookmarkIntervalMs)];
  if (query.timeoutSeconds !== null) timers.push(setTimeout(watch.end, query.timeoutSeconds * 1000));
  res.on('close', () => {
    unsubscribe();
    registry.delete(watch);
    for (const t of timers) clearTimeout(t);
  });
}
