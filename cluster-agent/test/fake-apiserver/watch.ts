import type { ServerResponse } from 'node:http';
import type { ResourceTarget } from './resources.js';
import { apiVersionOf } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { ObjectStore, StoredEvent } from './store.js';

export interface WatchQuery {
  readonly resourceVersion: string | null;
  readonly allowWatchBookmarks: boolean;
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

const seenBy = (event: StoredEvent, target: ResourceTarget): boolean =>
  event.def === target.def && (target.namespace === undefined || (event.object.metadata as { namespace?: unknown } | undefined)?.namespace === target.namespace);

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
    for (const obj of store.list(target.def, target.namespace)) write(res, 'ADDED', obj);
  }
  for (const event of backlog) if (seenBy(event, target)) write(res, event.type, event.object);
  const unsubscribe = store.subscribe((event) => {
    if (seenBy(event, target)) write(res, event.type, event.object);
  });
  const watch: OpenWatch = {
    bookmark: () => {
      if (!query.allowWatchBookmarks) return;
      write(res, 'BOOKMARK', { kind: target.def.kind, apiVersion: apiVersionOf(target.def), metadata: { resourceVersion: String(store.currentRv()) } });
    },
    end: () => res.end(),
  };
  registry.add(watch);
  const timer = setInterval(watch.bookmark, bookmarkIntervalMs);
  res.on('close', () => {
    unsubscribe();
    registry.delete(watch);
    clearInterval(timer);
  });
}
