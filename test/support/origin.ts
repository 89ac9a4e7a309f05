import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer } from './http-server.js';
import type { AddressInfo } from 'node:net';

/**
 * The seller's origin for gate tests, on 127.0.0.1:0. It records every hit and answers as told:
 * echo (default), a fixed status, slow, a server-sent event stream, a large body, or a dropped socket.
 */
export type OriginMode =
  | { kind: 'echo' }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'sse'; events: string[]; gapMs?: number }
  | { kind: 'large'; bytes: number; chunked?: boolean }
  | { kind: 'destroy' };

export interface OriginHit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestOrigin {
  readonly url: string;
  readonly hits: OriginHit[];
  mode: OriginMode;
  reset(): void;
  close(): Promise<void>;
}

function echo(hit: OriginHit): string {
  return JSON.stringify({ method: hit.method, url: hit.url, body: hit.body, payer: hit.headers['x-payment-payer'] ?? null });
}

export async function startOrigin(): Promise<TestOrigin> {
  const hits: OriginHit[] = [];
  const state: { mode: OriginMode } = { mode: { kind: 'echo' } };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      const mode = state.mode;
      switch (mode.kind) {
        case 'echo':
          res.writeHead(200, { 'content-type': 'application/json' }).end(echo(hit));
          return;
        case 'status':
          res.writeHead(mode.status, { 'content-type': 'application/json' }).end(mode.body ?? `{"origin_status":${mode.status}}`);
          return;
        case 'slow':
          setTimeout(() => { if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(echo(hit)); }, mode.ms);
          return;
        case 'sse': {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          let i = 0;
          const next = (): void => {
            if (res.destroyed) return;
            if (i >= mode.events.length) { res.end(); return; }
            res.write(`data: ${mode.events[i++]}\n\n`);
            setTimeout(next, mode.gapMs ?? 10);
          };
          next();
          return;
        }
        case 'large': {
          const body = Buffer.alloc(mode.bytes, 'x');
          res.writeHead(200, { 'content-type': 'application/octet-stream', ...(mode.chunked ? {} : { 'content-length': String(mode.bytes) }) });
          // Two writes without a length make node send it chunked (an unknown-length body).
          res.write(body.subarray(0, mode.bytes >> 1));
          res.end(body.subarray(mode.bytes >> 1));
          return;
        }
        case 'destroy':
          req.socket.destroy();
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    get mode() { return state.mode; },
    set mode(mode: OriginMode) { state.mode = mode; },
    reset() {
      hits.length = 0;
      state.mode = { kind: 'echo' };
    },
    close: () => closeServer(server),
  };
}
