import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer } from './http-server.js';
import type { AddressInfo } from 'node:net';

/**
 * A programmable x402 facilitator on 127.0.0.1:0 for gate tests. It records every call and
 * answers `/verify` and `/settle` as told; `GET /supported` answers in the official shape.
 * It does not touch a chain: the gate's own checks are what the tests exercise.
 */
export type Answer =
  | { kind: 'ok' }
  /** `/settle` with a `transaction`: a failure after a transaction was sent. */
  | { kind: 'reject'; reason: string; status?: number; transaction?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'destroy' }
  | { kind: 'delay'; ms: number; then?: Answer };

export interface FacilitatorCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeFacilitator {
  readonly url: string;
  readonly calls: FacilitatorCall[];
  verifyCalls(): FacilitatorCall[];
  settleCalls(): FacilitatorCall[];
  /** What the next calls answer until changed; both default to `ok`. */
  answers: { verify: Answer; settle: Answer };
  reset(): void;
  close(): Promise<void>;
}

export const SUPPORTED = {
  kinds: [
    { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
    { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
  ],
  extensions: [],
  signers: { 'eip155:*': ['0x90F79bf6EB2c4f870365E785982E1f101E93b906'] },
};

interface Envelope {
  paymentPayload?: { payload?: { authorization?: { from?: string } } };
  paymentRequirements?: { network?: string };
}

let txCounter = 0;

function okBody(path: string, body: Envelope): unknown {
  const payer = body.paymentPayload?.payload?.authorization?.from;
  if (path === '/verify') return { isValid: true, payer };
  txCounter += 1;
  return { success: true, transaction: `0x${txCounter.toString(16).padStart(64, '0')}`, network: body.paymentRequirements?.network, payer };
}

function rejectBody(path: string, reason: string, body: Envelope, transaction = ''): unknown {
  const payer = body.paymentPayload?.payload?.authorization?.from;
  if (path === '/verify') return { isValid: false, invalidReason: reason, payer };
  return { success: false, errorReason: reason, transaction, network: body.paymentRequirements?.network, payer };
}

export async function startFakeFacilitator(): Promise<FakeFacilitator> {
  const calls: FacilitatorCall[] = [];
  const answers: FakeFacilitator['answers'] = { verify: { kind: 'ok' }, settle: { kind: 'ok' } };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (req.method === 'GET' && path === '/supported') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(SUPPORTED));
        return;
      }
      let body: Envelope = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope;
      } catch {
        res.writeHead(400).end('{"error":"bad json"}');
        return;
      }
      calls.push({ path, headers: req.headers, body });
      const answer = path === '/verify' ? answers.verify : answers.settle;
      const respond = (a: Answer): void => {
        if (a.kind === 'destroy') { req.socket.destroy(); return; }
        if (a.kind === 'delay') { setTimeout(() => { if (!res.destroyed) respond(a.then ?? { kind: 'ok' }); }, a.ms); return; }
        if (a.kind === 'status') { res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? 'facilitator error'); return; }
        const json = a.kind === 'ok' ? okBody(path, body) : rejectBody(path, a.reason, body, a.transaction);
        res.writeHead(a.kind === 'reject' ? (a.status ?? 200) : 200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      respond(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    answers,
    verifyCalls: () => calls.filter((c) => c.path === '/verify'),
    settleCalls: () => calls.filter((c) => c.path === '/settle'),
    reset() {
      calls.length = 0;
      answers.verify = { kind: 'ok' };
      answers.settle = { kind: 'ok' };
    },
    close: () => closeServer(server),
  };
}
