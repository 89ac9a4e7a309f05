import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, type Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';

/**
 * The agent's operations endpoint (SPEC §7): `/healthz` (the process runs), `/readyz` (leader:
 * first push acknowledged; standby: informers synced) and `/metrics` (Prometheus text; the leader
 * appends the edge's per-offer payment metrics verbatim, so `sum by` never double-counts).
 */
export interface OpsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: AgentMetrics;
  readonly ready: () => { ready: boolean; detail: string };
  /** The edge's metrics text, or undefined when this replica must not re-export it. */
  readonly edgeMetrics: () => Promise<string | undefined>;
  readonly log: Logger;
}

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'application/json', JSON.stringify({ error: 'method_not_allowed' }));
    if (path === '/healthz') return send(200, 'application/json', JSON.stringify({ ok: true }));
    if (path === '/readyz') {
      const state = options.ready();
      return send(state.ready ? 200 : 503, 'application/json', JSON.stringify(state));
    }
    if (path === '/metrics') {
      void (async () => {
        const own = await options.metrics.registry.metrics();
        let edge: string | undefined;
        try {
          edge = await options.edgeMetrics();
        } catch (error) {
          options.log.warn('edge metrics unavailable', { error: errorMessage(error) });
        }
        send(200, options.metrics.registry.contentType, edge ? `${own}\n${edge.trimEnd()}\n` : own);
      })();
      return;
    }
    send(404, 'application/json', JSON.stringify({ error: 'not_found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Fetch the edge's Prometheus text with the metrics bearer token (never logged). */
export async function fetchEdgeMetrics(edgeUrl: string, token: string, timeoutMs = 5000): Promise<string> {
  const res = await fetch(`${edgeUrl.replace(/\/+$/, '')}/_obol/v1/metrics`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/plain' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`edge metrics answered ${res.status}`);
  return text;
}
