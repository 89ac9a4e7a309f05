import { getAddress } from 'viem';
import { PAYMENT_REQUIRED_HEADER } from '../../../core/x402/challenge.js';
import { PAYMENT_SIGNATURE_HEADER, X_PAYMENT_HEADER } from '../../../core/x402/payment-header.js';
import { RECEIPT_HEADER_V1, RECEIPT_HEADER_V2 } from '../../../core/x402/settlement.js';
import type { Env } from '../env.js';
import { finalAnswer, isInterimStatus } from './final-answer.js';

/**
 * Forwarding a verified request to the seller's origin (SPEC §5 step 6): same method, path, query
 * and body; payment headers stripped; the verified payer and the origin credentials added.
 */
export const PAYER_HEADER = 'X-Payment-Payer';

const DROPPED_REQUEST_HEADERS = [
  // Every x402 header: the payment and its receipts are the gate's business, and the payer is the gate's to say.
  X_PAYMENT_HEADER, PAYMENT_SIGNATURE_HEADER, RECEIPT_HEADER_V1, RECEIPT_HEADER_V2, PAYMENT_REQUIRED_HEADER, PAYER_HEADER,
  'cf-access-client-id', 'cf-access-client-secret',
  // `Expect: 100-continue` would make the origin answer 100 before its final answer.
  'expect',
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
];

/** The origin's deadline: it covers the headers and, for buffered bodies, the body too. */
export interface OriginDeadline {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  clear(): void;
  /** `promise`, or a rejection once the deadline has passed. */
  race<T>(promise: Promise<T>): Promise<T>;
}

export type OriginOutcome =
  | { kind: 'response'; response: Response; deadline: OriginDeadline }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'invalid'; detail: string }
  | { kind: 'timeout' };

export class OriginTimeoutError extends Error {}

function startDeadline(timeoutMs: number): OriginDeadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new OriginTimeoutError(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const signal = controller.signal;
  return {
    signal,
    timedOut: () => expired,
    clear: () => clearTimeout(timer),
    race: <T>(promise: Promise<T>) => {
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
  };
}

export function originRequestHeaders(incoming: Headers, payer: string, env: Env): Headers {
  const headers = new Headers(incoming);
  for (const name of DROPPED_REQUEST_HEADERS) headers.delete(name);
  headers.set(PAYER_HEADER, getAddress(payer));
  if (env.ORIGIN_ACCESS_CLIENT_ID && env.ORIGIN_ACCESS_CLIENT_SECRET) {
    headers.set('CF-Access-Client-Id', env.ORIGIN_ACCESS_CLIENT_ID);
    headers.set('CF-Access-Client-Secret', env.ORIGIN_ACCESS_CLIENT_SECRET);
  }
  return headers;
}

/** The origin's final answer (never an interim 1xx one), within the deadline. */
export async function forwardToOrigin(params: { request: Request; payer: string; env: Env; originUrl: string; timeoutMs: number }): Promise<OriginOutcome> {
  const { request } = params;
  const url = new URL(request.url);
  const target = `${params.originUrl}${url.pathname}${url.search}`;
  const deadline = startDeadline(params.timeoutMs);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  try {
    const response = await fetch(target, {
      method: request.method,
      headers: originRequestHeaders(request.headers, params.payer, params.env),
      body: hasBody ? request.body : null,
      redirect: 'manual',
      signal: deadline.signal,
    });
    if (!isInterimStatus(response.status)) return { kind: 'response', response, deadline };
    const final = await finalAnswer(response, request.method, deadline.race);
    if (final.kind === 'response') return { kind: 'response', response: final.response, deadline };
    deadline.clear();
    return final;
  } catch (error) {
    deadline.clear();
    if (deadline.timedOut()) return { kind: 'timeout' };
    return { kind: 'unreachable', detail: String(error) };
  }
}
