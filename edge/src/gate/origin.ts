import { getAddress } from 'viem';
import type { Env } from '../env.js';

/**
 * Forwarding a verified request to the seller's origin (SPEC §5 step 6): same method, path, query
 * and body; payment headers stripped; the verified payer and the origin credentials added.
 */
export const PAYER_HEADER = 'X-Payment-Payer';

const DROPPED_REQUEST_HEADERS = [
  'x-payment', 'payment-signature', 'x-payment-payer', 'cf-access-client-id', 'cf-access-client-secret',
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
];

/** The origin's deadline: it covers the headers and, for buffered bodies, the body too. */
export interface OriginDeadline {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  clear(): void;
}

export type OriginOutcome =
  | { kind: 'response'; response: Response; deadline: OriginDeadline }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'timeout' };

function startDeadline(timeoutMs: number): OriginDeadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, timeoutMs);
  return { signal: controller.signal, timedOut: () => expired, clear: () => clearTimeout(timer) };
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
    return { kind: 'response', response, deadline };
  } catch (error) {
    deadline.clear();
    if (deadline.timedOut()) return { kind: 'timeout' };
    return { kind: 'unreachable', detail: String(error) };
  }
}
