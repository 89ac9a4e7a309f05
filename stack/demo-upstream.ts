import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * The seller's origin for local runs, standing in for the cloudflared tunnel: `/health`, an
 * OpenAI-ish chat completions echo for `llama`, a JSON weather API and a summarizer echo. It sees
 * the original public paths, because the edge forwards `ORIGIN_URL + path`.
 */

export const DEFAULT_UPSTREAM_PORT = 9000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface DemoUpstream {
  readonly url: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function lastUserMessage(body: unknown): string {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return '';
  const user = [...messages].reverse().find((m: unknown) => (m as { role?: unknown })?.role === 'user') as { content?: unknown } | undefined;
  return typeof user?.content === 'string' ? user.content : '';
}

async function chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return sendJson(res, 400, { error: { message: 'body must be JSON', type: 'invalid_request_error' } });
  }
  const prompt = lastUserMessage(body);
  const content = `echo: ${prompt}`;
  sendJson(res, 200, {
    id: `chatcmpl-demo-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: (body as { model?: unknown }).model ?? 'llama3.2:3b',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt.length, completion_tokens: content.length, total_tokens: prompt.length + content.length },
    payer: req.headers['x-payment-payer'] ?? null,
  });
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstream.local');
  const path = url.pathname;
  if (path === '/health') return sendJson(res, 200, { ok: true });
  if (path === '/services/llama/v1/chat/completions' && req.method === 'POST') return chatCompletion(req, res);
  if (path.startsWith('/services/weather') && req.method === 'GET') {
    const city = url.searchParams.get('city') ?? 'Lisbon';
    return sendJson(res, 200, { city, forecast: 'sunny', temperatureC: 21, payer: req.headers['x-payment-payer'] ?? null });
  }
  if (path.startsWith('/services/legacy-summarize')) {
    const text = req.method === 'POST' ? await readBody(req) : (url.searchParams.get('text') ?? '');
    return sendJson(res, 200, { summary: text.slice(0, 80), note: 'this service is draining; see the Sunset header' });
  }
  sendJson(res, 404, { error: 'not_found', path });
}

export async function startDemoUpstream(options: { port?: number; host?: string } = {}): Promise<DemoUpstream> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'upstream_error', message: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_UPSTREAM_PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// `tsx stack/demo-upstream.ts [port]` runs it alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? DEFAULT_UPSTREAM_PORT);
  const upstream = await startDemoUpstream({ port });
  console.log(JSON.stringify({ level: 'info', msg: 'demo upstream listening', url: upstream.url }));
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
