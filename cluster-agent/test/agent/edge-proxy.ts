import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of a test edge, so the agent keeps one edge URL while tests stop
 * the edge, restart it over the same state or replace it with an empty one. It records every
 * request the agent made (method, path, status) so tests can count pushes.
 */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface EdgeProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  /** Forward to `target`; undefined = the edge is down (connections are dropped). */
  setTarget(target: string | undefined): void;
  pushes(): ProxiedRequest[];
  close(): Promise<void>;
}

async function forward(target: string, req: IncomingMessage, res: ServerResponse, record: (status: number) => void): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers.set(name, value);
  }
  const upstream = await fetch(`${target}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
  });
  const body = Buffer.from(await upstream.arrayBuffer());
  record(upstream.status);
  const out: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name)) out[name] = value;
  });
  res.writeHead(upstream.status, out);
  res.end(body);
}

export async function startEdgeProxy(initial: string | undefined): Promise<EdgeProxy> {
  let target = initial;
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const record = (status: number) => requests.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] ?? '/', status });
    if (!target) {
      record(0);
      req.socket.destroy();
      return;
    }
    forward(target, req, res, record).catch(() => {
      record(0);
      req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setTarget: (next) => {
      target = next;
    },
    pushes: () => requests.filter((r) => r.method === 'PUT' && r.path === '/_obol/v1/catalog'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
