/**
 * A demo buyer built only from official x402 client packages (@x402/fetch + @x402/core +
 * @x402/evm). `npm run demo:buy -- <path> [--edge http://127.0.0.1:8787] [--v1] [--network base] [--key 0x…]`
 * pays for one request and prints the status, the body, the decoded receipt header and the
 * settlement transaction. The default key is anvil's public dev account #2 (the local buyer).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { x402Client } from '@x402/core/client';
import { decodePaymentResponseHeader } from '@x402/core/http';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { LOCAL_ACCOUNTS, LOCAL_NETWORKS, type LocalNetwork } from './chain.js';

export interface BuyerFetchOptions {
  readonly privateKey: Hex;
  /** 2: answers `PAYMENT-REQUIRED` with `PAYMENT-SIGNATURE`; 1: answers the v1 body with `X-PAYMENT`. */
  readonly version: 1 | 2;
  /** The transport underneath; default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** The one network the wallet pays on (it picks that option from a 402 listing several); default Base Sepolia. */
  readonly network?: LocalNetwork['name'];
}

/** The official x402 client with one EVM key, registered for one local network (default Base Sepolia) in the chosen version. */
export function makeBuyerClient(privateKey: Hex, version: 1 | 2, network: LocalNetwork['name'] = 'base-sepolia'): x402Client {
  const account = privateKeyToAccount(privateKey);
  const { caip2, name } = LOCAL_NETWORKS[network];
  return version === 2
    ? new x402Client().register(caip2, new ExactEvmScheme(account))
    : new x402Client().registerV1(name, new ExactEvmSchemeV1(account));
}

/**
 * A fetch that pays 402 challenges. A v1 buyer behaves like a v1-only client: it never sees the
 * `PAYMENT-REQUIRED` header (which the official client would otherwise prefer) and pays from the body.
 */
export function makeBuyerFetch(options: BuyerFetchOptions): typeof fetch {
  const base = options.fetch ?? globalThis.fetch;
  const transport: typeof fetch =
    options.version === 2
      ? base
      : async (input, init) => {
          const response = await base(input, init);
          if (response.status !== 402 || !response.headers.has('PAYMENT-REQUIRED')) return response;
          const headers = new Headers(response.headers);
          headers.delete('PAYMENT-REQUIRED');
          return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
        };
  return wrapFetchWithPayment(transport, makeBuyerClient(options.privateKey, options.version, options.network));
}

export interface Receipt {
  readonly header: 'PAYMENT-RESPONSE' | 'X-PAYMENT-RESPONSE';
  readonly success: boolean;
  readonly transaction: string;
  readonly network: string;
  readonly payer?: string;
  readonly errorReason?: string;
}

/** The decoded settlement receipt of a paid response, if it carries one. */
export function readReceipt(response: Response): Receipt | undefined {
  for (const header of ['PAYMENT-RESPONSE', 'X-PAYMENT-RESPONSE'] as const) {
    const value = response.headers.get(header);
    if (!value) continue;
    const decoded = decodePaymentResponseHeader(value);
    return {
      header,
      success: decoded.success,
      transaction: decoded.transaction,
      network: decoded.network,
      ...(decoded.payer ? { payer: decoded.payer } : {}),
      ...(decoded.errorReason ? { errorReason: decoded.errorReason } : {}),
    };
  }
  return undefined;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      edge: { type: 'string', default: process.env.EDGE_URL ?? 'http://127.0.0.1:8787' },
      v1: { type: 'boolean', default: false },
      network: { type: 'string', default: 'base-sepolia' },
      key: { type: 'string', default: process.env.BUYER_PRIVATE_KEY ?? LOCAL_ACCOUNTS.buyer.privateKey },
      method: { type: 'string', default: 'GET' },
      data: { type: 'string' },
    },
  });
  const path = positionals[0];
  if (!path || !path.startsWith('/')) {
    console.error('usage: npm run demo:buy -- </services/name/...> [--edge URL] [--v1] [--network base-sepolia|base] [--key 0x…] [--method POST --data JSON]');
    return 2;
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(values.key)) {
    console.error('--key / BUYER_PRIVATE_KEY must be a 32-byte 0x-hex key');
    return 2;
  }
  const network = z.enum(['base-sepolia', 'base']).safeParse(values.network);
  if (!network.success) {
    console.error(`--network must be base-sepolia or base, got "${values.network}"`);
    return 2;
  }
  const version = values.v1 ? 1 : 2;
  const pay = makeBuyerFetch({ privateKey: values.key as Hex, version, network: network.data });
  const url = new URL(path, values.edge).toString();
  const started = performance.now();
  const response = await pay(url, {
    method: values.method,
    ...(values.data !== undefined ? { body: values.data, headers: { 'content-type': 'application/json' } } : {}),
  });
  const body = await response.text();
  const receipt = readReceipt(response);
  console.log(`buyer ${privateKeyToAccount(values.key as Hex).address} paid with x402 v${version}`);
  console.log(`${values.method} ${url} → ${response.status} ${response.statusText} in ${Math.round(performance.now() - started)} ms`);
  console.log(`body: ${body.length > 2000 ? `${body.slice(0, 2000)}… (${body.length} chars)` : body}`);
  console.log(`receipt: ${receipt ? JSON.stringify(receipt) : '(none)'}`);
  console.log(`settlement transaction: ${receipt?.success ? receipt.transaction : '(none)'}`);
  return response.ok && receipt?.success ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`demo:buy failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
