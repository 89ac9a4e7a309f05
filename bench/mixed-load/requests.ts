import { x402Client } from '@x402/core/client';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentRequired } from '@x402/core/types';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';

/**
 * What each kind of request carries. Paid requests use authorizations signed before the clock
 * starts by the official x402 client (one fresh nonce each, payers in turn); replays resend an
 * authorization whose paid request already got its 2xx, half as the same v2 bytes and half
 * re-wrapped into a v1 `X-PAYMENT` envelope (SPEC §5: still the same authorization).
 */
const V1_NETWORK = 'base-sepolia';
const MAX_HEADER_BYTES = 16 * 1024;

export async function signPaidHeaders(paymentRequired: PaymentRequired, payerKeys: readonly Hex[], count: number): Promise<string[]> {
  const clients = payerKeys.map((key) => registerExactEvmScheme(new x402Client(), { signer: privateKeyToAccount(key) }));
  const headers: string[] = [];
  for (let i = 0; i < count; i++) {
    const client = clients[i % clients.length];
    if (!client) throw new Error('signPaidHeaders needs at least one payer key');
    headers.push(encodePaymentSignatureHeader(await client.createPaymentPayload(paymentRequired)));
  }
  return headers;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Replay number `n` of a used v2 header: even → the same bytes, odd → the v1 re-wrap. */
export function replayHeaders(usedV2Header: string, n: number): Record<string, string> {
  if (n % 2 === 0) return { 'PAYMENT-SIGNATURE': usedV2Header };
  const v2 = JSON.parse(Buffer.from(usedV2Header, 'base64').toString('utf8')) as { payload: unknown };
  return { 'X-PAYMENT': b64(JSON.stringify({ x402Version: 1, scheme: 'exact', network: V1_NETWORK, payload: v2.payload })) };
}

/**
 * Malformed payment headers, each answered 400 `invalid_payment_header` before any claim or
 * network call (SPEC §5 step 2). `signedV2Header` is a real, never-paid v2 header used for the
 * version mismatch (v2 JSON in the v1 header).
 */
export function garbageVariants(signedV2Header: string): ReadonlyArray<Record<string, string>> {
  return [
    { 'PAYMENT-SIGNATURE': '%%% not base64 %%%' },
    { 'PAYMENT-SIGNATURE': b64('this is not json') },
    { 'PAYMENT-SIGNATURE': b64(JSON.stringify({ x402Version: 2, hello: 'world' })) },
    { 'X-PAYMENT': signedV2Header },
    { 'PAYMENT-SIGNATURE': 'A'.repeat(MAX_HEADER_BYTES + 1024) },
  ];
}

/** The `error` or `reason` of a JSON body, for the unexpected-answer histogram. */
export function bodyReason(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null) return undefined;
    const { reason, error } = body as { reason?: unknown; error?: unknown };
    if (typeof reason === 'string') return reason;
    return typeof error === 'string' ? error : undefined;
  } catch {
    return undefined;
  }
}
