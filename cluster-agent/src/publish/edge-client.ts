import { z } from 'zod';
import { SIGNATURE_HEADER } from '../../../core/signature.js';

/**
 * Client for the edge's snapshot channel (SPEC §6): `GET /_obol/v1/catalog/status` and
 * `PUT /_obol/v1/catalog`, each with a timeout. An edge that answers with an error becomes an
 * `EdgePushError` / `EdgeStatusError` carrying the HTTP status and the edge's JSON error; an edge
 * that cannot be reached becomes an `EdgeUnreachableError`.
 */

export const DEFAULT_EDGE_TIMEOUT_MS = 10_000;
const CHANNEL = '/_obol/v1/catalog';

export const CatalogStatus = z.object({
  audience: z.string().min(1),
  /** Absent or null before the edge accepted its first snapshot. */
  sequence: z.number().int().nonnegative().nullable().optional(),
  issuedAt: z.string().nullable().optional(),
  receivedAt: z.string().nullable().optional(),
  /** A count or a list, depending on the edge version; the publisher does not rely on it. */
  offers: z.unknown().optional(),
});
export type CatalogStatus = z.infer<typeof CatalogStatus>;

const EdgeErrorBody = z.object({ error: z.string().optional(), reason: z.string().optional(), message: z.string().optional() }).loose();
export type EdgeErrorBody = z.infer<typeof EdgeErrorBody>;

export class EdgeUnreachableError extends Error {
  readonly reason: 'edge_unreachable' | 'edge_timeout';
  constructor(readonly url: string, timedOut: boolean, detail: string) {
    super(timedOut ? `edge ${url} did not answer in time` : `edge ${url} is unreachable: ${detail}`);
    this.name = 'EdgeUnreachableError';
    this.reason = timedOut ? 'edge_timeout' : 'edge_unreachable';
  }
}

/** The edge answered the status request with something other than a status document. */
export class EdgeStatusError extends Error {
  readonly reason = 'edge_status_failed';
  constructor(readonly status: number, readonly body: EdgeErrorBody | undefined, detail: string) {
    super(`edge status request failed (${status}): ${detail}`);
    this.name = 'EdgeStatusError';
  }
}

/** The edge refused a snapshot; `status` and `body` are the edge's answer. */
export class EdgePushError extends Error {
  readonly reason = 'edge_rejected_snapshot';
  constructor(readonly status: number, readonly body: EdgeErrorBody | undefined, text: string) {
    const code = body?.error ?? body?.reason;
    const detail = [code, body?.message].filter(Boolean).join(': ') || text.slice(0, 200) || 'no body';
    super(`edge refused the snapshot (HTTP ${status}): ${detail}`);
    this.name = 'EdgePushError';
  }
}

export interface PushResult {
  readonly sequence: number;
  /** The edge already held these exact bytes at this sequence (a no-op). */
  readonly unchanged: boolean;
}

export interface EdgeClient {
  readonly baseUrl: string;
  status(): Promise<CatalogStatus>;
  push(body: Uint8Array, signature: string): Promise<PushResult>;
}

export interface EdgeClientOptions {
  /** The edge's URL as reachable from here, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function createEdgeClient(options: EdgeClientOptions): EdgeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_EDGE_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;

  async function request(path: string, init: RequestInit): Promise<{ status: number; text: string; json: unknown }> {
    const url = `${baseUrl}${path}`;
    try {
      const res = await doFetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      return { status: res.status, text, json: parseJson(text) };
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new EdgeUnreachableError(url, timedOut, cause?.code ?? cause?.message ?? (error as Error).message);
    }
  }

  return {
    baseUrl,
    async status() {
      const res = await request(`${CHANNEL}/status`, { method: 'GET', headers: { accept: 'application/json' } });
      const errorBody = EdgeErrorBody.safeParse(res.json);
      if (res.status !== 200) throw new EdgeStatusError(res.status, errorBody.success ? errorBody.data : undefined, res.text.slice(0, 200));
      const parsed = CatalogStatus.safeParse(res.json);
      if (!parsed.success) throw new EdgeStatusError(res.status, undefined, 'the answer is not a catalog status document');
      return parsed.data;
    },
    async push(body, signature) {
      const res = await request(CHANNEL, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
      });
      const errorBody = EdgeErrorBody.safeParse(res.json);
      if (res.status !== 200) throw new EdgePushError(res.status, errorBody.success ? errorBody.data : undefined, res.text);
      const accepted = z.object({ sequence: z.number().int().positive(), unchanged: z.boolean().optional() }).safeParse(res.json);
      if (!accepted.success) throw new EdgePushError(res.status, undefined, `unexpected answer: ${res.text.slice(0, 200)}`);
      return { sequence: accepted.data.sequence, unchanged: accepted.data.unchanged ?? false };
    },
  };
}
