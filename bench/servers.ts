import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The bench's local origin and facilitator: small node servers on 127.0.0.1 that time their own
 * work, so the gate's share of a paid request can be derived as total minus theirs.
 */
export interface TimedServer {
  readonly url: string;
  /** Handler durations in ms (request arrival → response end), by route. */
  readonly timings: Map<string, number[]>;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type Handler = (req: IncomingMessage, body: string) => Promise<{ status: number; json: unknown }>;

async function listen(route: (path: string) => Handler | undefined): Promise<TimedServer> {
  const timings = new Map<string, number[]>();
  const server: Server = createServer((req, res: ServerResponse) => {
    const started = performance.now();
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const handler = route(path);
    const done = (status: number, json: unknown) => {
      const body = JSON.stringify(json);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body, () => {
        const key = handler ? path : 'unrouted';
        const list = timings.get(key) ?? [];
        list.push(performance.now() - started);
        timings.set(key, list);
      });
    };
    if (!handler) return done(404, { error: 'not_found' });
    readBody(req)
      .then((body) => handler(req, body))
      .then((r) => done(r.status, r.json))
      .catch((error: unknown) => done(400, { error: String(error) }));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    timings,
    reset: () => timings.clear(),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** The seller's upstream: answers every request at once with a small JSON body. */
export function startOrigin(): Promise<TimedServer> {
  const answer: Handler = async () => ({ status: 200, json: { ok: true, answer: 'bench origin response' } });
  return listen(() => answer);
}

const FacilitatorCall = z.object({
  paymentPayload: z.object({ payload: z.object({ authorization: z.object({ from: z.string() }) }) }),
  paymentRequirements: z.object({ network: z.string() }),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A facilitator that accepts every payment after a fixed delay per call: it measures the gates,
 * not the chain. `/supported` answers in the official shape (the official middleware asks it first).
 */
export function startFacilitatorStub(delayMs: number): Promise<TimedServer> {
  let settled = 0;
  const verify: Handler = async (_req, body) => {
    const call = FacilitatorCall.parse(JSON.parse(body));
    await sleep(delayMs);
    return { status: 200, json: { isValid: true, payer: call.paymentPayload.payload.authorization.from } };
  };
  const settle: Handler = async (_req, body) => {
    const call = FacilitatorCall.parse(JSON.parse(body));
    await sleep(delayMs);
    settled += 1;
    const transaction = `0x${settled.toString(16).padStart(64, '0')}`;
    return { status: 200, json: { success: true, transaction, network: call.paymentRequirements.network, payer: call.paymentPayload.payload.authorization.from } };
  };
  const supported: Handler = async () => ({
    status: 200,
    json: {
      kinds: [
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      ],
      extensions: [],
      signers: { 'eip155:*': ['0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'] },
    },
  });
  const routes: Record<string, Handler> = { '/verify': verify, '/settle': settle, '/supported': supported };
  return listen((path) => routes[path]);
}
