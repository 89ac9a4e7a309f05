import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUYER } from '../../../test/support/payments.js';
import { decodeReceipt, startGateFixture, type GateFixture } from '../../../test/support/gate.js';

/**
 * What a hostile or odd origin answers, and what the buyer is charged for it (SPEC §5 "Settling
 * happens only on the origin's final status…"): interim 1xx answers, bodies without a length, and
 * the headers on the way in and out.
 */
type Script = (req: IncomingMessage, res: ServerResponse) => void;

interface ScriptedOrigin {
  readonly url: string;
  readonly hits: IncomingHttpHeaders[];
  script: Script;
  close(): Promise<void>;
}

const json = (res: ServerResponse, body: string): void => { res.writeHead(200, { 'content-type': 'application/json' }).end(body); };

async function startScriptedOrigin(): Promise<ScriptedOrigin> {
  const state: { script: Script } = { script: (_req, res) => json(res, '{"ok":true}') };
  const hits: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.headers);
    req.resume();
    req.on('end', () => state.script(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    get script() { return state.script; },
    set script(script: Script) { state.script = script; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

let f: GateFixture;
let origin: ScriptedOrigin;
beforeAll(async () => {
  origin = await startScriptedOrigin();
  f = await startGateFixture({ ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await f?.dispose();
  await origin?.close();
});
beforeEach(() => {
  f.reset();
  origin.hits.length = 0;
  origin.script = (_req, res) => json(res, '{"ok":true}');
});

const later = (ms: number, action: () => void): void => { setTimeout(action, ms); };

/** A request through node:http, which (unlike fetch) may carry `Expect: 100-continue`. */
function rawPost(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${f.edge.url}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('interim 1xx answers are never a success', () => {
  it.each([
    ['103 Early Hints', (res: ServerResponse) => res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })],
    ['102 Processing', (res: ServerResponse) => res.writeProcessing()],
  ])('settles once on the final answer after %s', async (_name, interim) => {
    origin.script = (_req, res) => {
      interim(res);
      later(100, () => json(res, '{"final":true}'));
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ final: true });
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('returns an origin error that follows an interim answer as is, without settling', async () => {
    origin.script = (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      later(50, () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"boom":true}'));
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ boom: true });
    expect(f.facilitator.settleCalls()).toHaveLength(0);
  });

  it.each([
    ['garbage', 'HTTP/1.1 103 Early Hints\r\n\r\nnot http at all\r\n\r\n', 502, 'origin_invalid_response'],
    ['nothing', 'HTTP/1.1 102 Processing\r\n\r\n', 504, 'origin_timeout'],
  ])('does not settle an interim answer followed by %s', async (_name, raw, status, error) => {
    origin.script = (req) => { req.socket.write(raw); };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error });
    expect(f.facilitator.settleCalls()).toHaveLength(0);
  });

  it('never passes the client\'s Expect: 100-continue to the origin, and settles once on the final answer', async () => {
    origin.script = (_req, res) => json(res, '{"final":true}');
    const { headers } = await f.pay();
    const res = await rawPost('/services/echo', { ...headers, 'content-type': 'application/json', expect: '100-continue' }, '{"prompt":"hi"}');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ final: true });
    expect(f.facilitator.settleCalls()).toHaveLength(1);
    expect(origin.hits).toHaveLength(1);
    expect(origin.hits[0]?.['expect']).toBeUndefined();
  });
});

describe('an answer that was paid for is always delivered', () => {
  it('delivers a 200 whose reason phrase holds a control character (fetch takes it, a Response would not)', async () => {
    origin.script = (req) => { req.socket.end(Buffer.from('HTTP/1.1 200 O\x01K\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}', 'latin1')); };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });
});

describe('a body without Content-Length is buffered before settling', () => {
  it('does not settle a chunked JSON body that stalls after its first chunk; answers 504 at the deadline', async () => {
    origin.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"part":1,"padding":"' + 'x'.repeat(40) + '",');
      later(3000, () => { if (!res.destroyed) res.end('"part2":2}'); });
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: 'origin_timeout' });
    expect(res.headers.get('payment-response')).toBeNull();
    expect(f.facilitator.settleCalls()).toHaveLength(0);
    // It reached the origin: consumed, never forwarded again (SPEC §5 ledger table).
    const again = await f.edge.fetch('/services/echo', { headers });
    expect(again.status).toBe(402);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_exact_evm_nonce_already_used');
    expect(origin.hits).toHaveLength(1);
  });

  it('settles a chunked JSON body only once it has all arrived, then delivers all of it', async () => {
    let settledBeforeEnd: number | undefined;
    origin.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"part":1,');
      later(300, () => {
        settledBeforeEnd = f.facilitator.settleCalls().length;
        res.end('"part2":2}');
      });
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ part: 1, part2: 2 });
    expect(settledBeforeEnd).toBe(0);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('settles a chunked body once 8 MiB have arrived without an end, then streams all of it', async () => {
    const bytes = 9 * 1024 * 1024;
    origin.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const body = Buffer.alloc(bytes, 'y');
      res.write(body.subarray(0, bytes >> 1));
      res.end(body.subarray(bytes >> 1));
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(decodeReceipt(res, 'PAYMENT-RESPONSE')).toMatchObject({ success: true });
    expect((await res.arrayBuffer()).byteLength).toBe(bytes);
    expect(f.facilitator.settleCalls()).toHaveLength(1);
  });

  it('sends no byte of an over-size chunked body whose settlement failed', async () => {
    origin.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const body = Buffer.alloc(9 * 1024 * 1024, 's');
      res.write(body.subarray(0, 1024));
      res.end(body.subarray(1024));
    };
    f.facilitator.answers.settle = { kind: 'reject', reason: 'invalid_exact_evm_insufficient_balance' };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(402);
    expect(await res.text()).not.toContain('sss');
  });
});

describe('shared caches never keep a paid answer', () => {
  it.each([
    [undefined, 'private'],
    ['max-age=60', 'private, max-age=60'],
    ['public, max-age=60, s-maxage=600', 'private, max-age=60'],
    ['private, max-age=5', 'private, max-age=5'],
    ['no-store', 'private, no-store'],
  ])('origin Cache-Control %s → %s', async (given, expected) => {
    origin.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...(given ? { 'cache-control': given } : {}) }).end('{"ok":true}');
    };
    const { headers } = await f.pay();
    const res = await f.edge.fetch('/services/echo', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe(expected);
  });
});

describe('x402 headers never reach the origin', () => {
  it('strips every x402 header the client sent and replaces X-Payment-Payer with the verified payer', async () => {
    const { headers } = await f.pay();
    const forged = {
      'PAYMENT-RESPONSE': 'Zm9yZ2Vk',
      'X-PAYMENT-RESPONSE': 'Zm9yZ2Vk',
      'PAYMENT-REQUIRED': 'Zm9yZ2Vk',
      'X-Payment-Payer': '0x0000000000000000000000000000000000000bad',
    };
    const res = await f.edge.fetch('/services/echo', { headers: { ...headers, ...forged } });
    expect(res.status).toBe(200);
    const seen = origin.hits[0] ?? {};
    for (const name of ['payment-signature', 'x-payment', 'payment-response', 'x-payment-response', 'payment-required']) {
      expect(seen[name], name).toBeUndefined();
    }
    expect(seen['x-payment-payer']).toBe(BUYER.address);
  });
});
