/**
 * A local x402 facilitator: the official `x402Facilitator` (@x402/core) with the exact EVM
 * scheme (@x402/evm) for v2 `eip155:84532` and v1 `base-sepolia` over the local chain, and, given
 * the stack's second chain, v2 `eip155:8453` and v1 `base` over that one, behind a
 * small node:http server (`/verify`, `/settle`, `/supported`, `/discovery/resources`). Our code
 * only parses the wire, serializes settlements and logs; the payment checks are the library's. Each
 * successful settlement files its resource in a Bazaar catalog (`bazaar-catalog.ts`).
 *
 * CLI: `tsx stack/facilitator.ts --rpc http://127.0.0.1:8545 [--base-rpc http://127.0.0.1:8546] [--port 4021] [--delay-ms 0]`
 * (key from FACILITATOR_PRIVATE_KEY, else anvil's public dev account #3).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { x402Facilitator } from '@x402/core/facilitator';
import { BAZAAR } from '@x402/extensions/bazaar';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { ExactEvmScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/facilitator';
import { createWalletClient, http, publicActions, type Abi, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { LOCAL_ACCOUNTS, LOCAL_CHAIN_ID, LOCAL_NETWORKS, LOCAL_POLLING_MS, localChain } from './chain.js';
import { createBazaarCatalog, ListQuery, type BazaarCatalog } from './bazaar-catalog.js';
import { describeRequestProblems, FacilitatorRequest } from './facilitator-request.js';

export const V2_NETWORK = 'eip155:84532';
export const V1_NETWORK = 'base-sepolia';
/** The second chain's networks (Base), settled when `baseRpcUrl` is given. */
export const BASE_V2_NETWORK = LOCAL_NETWORKS.base.caip2;
export const BASE_V1_NETWORK = LOCAL_NETWORKS.base.name;
/** Bodies are a payload plus a requirement, a few KiB; smart-wallet signatures stay well under. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_KEPT_TRANSACTIONS = 1_000;

export interface FacilitatorStats {
  verifyRequests: number;
  verifyValid: number;
  settleRequests: number;
  settleSucceeded: number;
  settleFailed: number;
  badRequests: number;
  /** Hashes of successful settlements, oldest first (the last MAX_KEPT_TRANSACTIONS). */
  transactions: string[];
}

export interface LocalFacilitator {
  readonly url: string;
  /** The facilitator's settling address (pays gas). */
  readonly address: Hex;
  /** A live view of the counters. */
  readonly stats: Readonly<FacilitatorStats>;
  /** The resources settled payments declared (`GET /discovery/resources`). */
  readonly catalog: BazaarCatalog;
  stop(): Promise<void>;
}

export interface StartFacilitatorOptions {
  /** The Base Sepolia chain's RPC. */
  readonly rpcUrl: string;
  /** The second chain's (Base) RPC, when the stack runs one: its networks are registered too. */
  readonly baseRpcUrl?: string;
  readonly privateKey: Hex;
  /** 0 or absent: a port chosen by the OS. */
  readonly port?: number;
  /** Added before every verify and settle, to simulate a remote facilitator. */
  readonly delayMs?: number;
  /** One JSON object per event; default: a JSON line on stdout. */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export class FacilitatorRequestError extends Error {
  constructor(readonly status: number, readonly reason: string, readonly details: string[] = []) {
    super(`${reason}${details.length ? `: ${details.join('; ')}` : ''}`);
    this.name = 'FacilitatorRequestError';
  }
}

/** The facilitator's signer on one local chain: every read and write goes to that chain's RPC. */
function chainSigner(rpcUrl: string, chainId: number, account: ReturnType<typeof privateKeyToAccount>) {
  const client = createWalletClient({
    account, chain: localChain(rpcUrl, chainId), transport: http(rpcUrl), pollingInterval: LOCAL_POLLING_MS,
  }).extend(publicActions);
  return toFacilitatorEvmSigner({
    address: account.address,
    getCode: (args) => client.getCode(args),
    readContract: (args) => client.readContract({ ...args, abi: args.abi as Abi, args: args.args ?? [] }),
    verifyTypedData: (args) => client.verifyTypedData(args as Parameters<typeof client.verifyTypedData>[0]),
    writeContract: (args) => client.writeContract({ ...args, abi: args.abi as Abi }),
    sendTransaction: (args) => client.sendTransaction(args),
    waitForTransactionReceipt: (args) => client.waitForTransactionReceipt({ ...args, pollingInterval: LOCAL_POLLING_MS }),
  }, { confirmationTimeoutMs: 30_000 });
}

/** The official facilitator, wired to the local chain (and the second one, given its RPC) with one settling key. */
export function createLocalFacilitator(rpcUrl: string, privateKey: Hex, baseRpcUrl?: string): { facilitator: x402Facilitator; address: Hex } {
  const account = privateKeyToAccount(privateKey);
  const signer = chainSigner(rpcUrl, LOCAL_CHAIN_ID, account);
  // The v1 scheme reports a failed settle broadcast as free text; simulating first (a library
  // option) turns a replay into its code, invalid_exact_evm_nonce_already_used, as v2 does.
  const facilitator = new x402Facilitator()
    .register(V2_NETWORK, new ExactEvmScheme(signer))
    .registerV1(V1_NETWORK as PaymentRequirements['network'], new ExactEvmSchemeV1(signer, { simulateInSettle: true }))
    // Advertised in /supported: this facilitator catalogs the resources it settles.
    .registerExtension(BAZAAR);
  if (baseRpcUrl !== undefined) {
    const base = chainSigner(baseRpcUrl, LOCAL_NETWORKS.base.chainId, account);
    facilitator
      .register(BASE_V2_NETWORK, new ExactEvmScheme(base))
      .registerV1(BASE_V1_NETWORK as PaymentRequirements['network'], new ExactEvmSchemeV1(base, { simulateInSettle: true }));
  }
  return { facilitator, address: account.address };
}

/** Start the facilitator's HTTP server on 127.0.0.1. */
export async function startFacilitator(options: StartFacilitatorOptions): Promise<LocalFacilitator> {
  const { facilitator, address } = createLocalFacilitator(options.rpcUrl, options.privateKey, options.baseRpcUrl);
  const log = options.log ?? ((entry) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...entry })));
  const stats: FacilitatorStats = {
    verifyRequests: 0, verifyValid: 0, settleRequests: 0, settleSucceeded: 0, settleFailed: 0, badRequests: 0, transactions: [],
  };
  const catalog = createBazaarCatalog();
  facilitator.onAfterSettle(async ({ paymentPayload, requirements, result }) => {
    if (result.success && catalog.record(paymentPayload, requirements)) log({ level: 'info', msg: 'cataloged', resource: paymentPayload.resource?.url });
  });
  const kinds = new Set(facilitator.getSupported().kinds.map((kind) => `${kind.x402Version} ${kind.scheme} ${kind.network}`));
  const handler = createHandler({ facilitator, stats, log, delayMs: options.delayMs ?? 0, catalog, kinds });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log({ level: 'info', msg: 'facilitator listening', url, address, networks: [...kinds] });
  return { url, address, stats, catalog, stop: () => closeServer(server) };
}

interface HandlerContext {
  readonly facilitator: x402Facilitator;
  readonly stats: FacilitatorStats;
  readonly log: (entry: Record<string, unknown>) => void;
  readonly delayMs: number;
  readonly catalog: BazaarCatalog;
  /** `<x402Version> <scheme> <network>` of every registered kind (as /supported lists them). */
  readonly kinds: ReadonlySet<string>;
}

function createHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let settleQueue: Promise<unknown> = Promise.resolve();
  // One settlement at a time: concurrent sends would collide on the settling key's nonce.
  const serialized = <T>(task: () => Promise<T>): Promise<T> => {
    const run = settleQueue.then(task, task);
    settleQueue = run.catch(() => undefined);
    return run;
  };
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://facilitator').pathname;
    try {
      if (req.method === 'GET' && (path === '/supported' || path === '/health')) {
        return sendJson(res, 200, path === '/health' ? { ok: true } : ctx.facilitator.getSupported());
      }
      if (req.method === 'GET' && path === '/discovery/resources') {
        const query = ListQuery.safeParse(Object.fromEntries(new URL(req.url ?? '/', 'http://facilitator').searchParams));
        if (!query.success) throw new FacilitatorRequestError(400, 'invalid_query', [z.prettifyError(query.error)]);
        return sendJson(res, 200, ctx.catalog.list(query.data));
      }
      if (req.method === 'POST' && (path === '/verify' || path === '/settle')) {
        const request = parseRequest(await readBody(req));
        if (ctx.delayMs > 0) await sleep(ctx.delayMs);
        const result = path === '/verify' ? await verify(ctx, request) : await serialized(() => settle(ctx, request));
        return sendJson(res, 200, result);
      }
      sendJson(res, 404, { error: 'not_found', message: 'GET /supported, GET /discovery/resources, POST /verify, POST /settle' });
    } catch (error) {
      if (error instanceof FacilitatorRequestError) {
        ctx.stats.badRequests += 1;
        ctx.log({ level: 'warn', msg: 'bad request', path, reason: error.reason, details: error.details });
        return sendJson(res, error.status, { error: error.reason, details: error.details });
      }
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 200);
      ctx.log({ level: 'error', msg: 'facilitator error', path, message });
      sendJson(res, 500, { error: 'facilitator_error', message });
    }
  };
}

type Request = FacilitatorRequest;

/** x402Facilitator's signatures name the v2 shapes; it dispatches v1 bodies by `x402Version`. */
function libraryArgs(request: Request): [PaymentPayload, PaymentRequirements] {
  return [request.paymentPayload as unknown as PaymentPayload, request.paymentRequirements as unknown as PaymentRequirements];
}

/** The library throws for a kind it has no scheme for; answer that as a payment failure. */
function unsupportedReason(ctx: HandlerContext, request: Request): string | undefined {
  const { scheme, network } = request.paymentRequirements;
  if (scheme !== 'exact') return 'unsupported_scheme';
  return ctx.kinds.has(`${request.x402Version} ${scheme} ${network}`) ? undefined : 'invalid_network';
}

async function verify(ctx: HandlerContext, request: Request): Promise<VerifyResponse> {
  ctx.stats.verifyRequests += 1;
  const payer = request.paymentPayload.payload.authorization.from;
  const unsupported = unsupportedReason(ctx, request);
  const result: VerifyResponse = unsupported
    ? { isValid: false, invalidReason: unsupported, payer }
    : await ctx.facilitator.verify(...libraryArgs(request));
  if (result.isValid) ctx.stats.verifyValid += 1;
  ctx.log({ level: 'info', msg: 'verify', x402Version: request.x402Version, payer, isValid: result.isValid, invalidReason: result.invalidReason });
  return result;
}

async function settle(ctx: HandlerContext, request: Request): Promise<SettleResponse> {
  ctx.stats.settleRequests += 1;
  const started = performance.now();
  const payer = request.paymentPayload.payload.authorization.from;
  const unsupported = unsupportedReason(ctx, request);
  const result: SettleResponse = unsupported
    ? { success: false, errorReason: unsupported, transaction: '', network: request.paymentRequirements.network as SettleResponse['network'], payer }
    : await ctx.facilitator.settle(...libraryArgs(request));
  if (result.success) {
    ctx.stats.settleSucceeded += 1;
    ctx.stats.transactions.push(result.transaction);
    if (ctx.stats.transactions.length > MAX_KEPT_TRANSACTIONS) ctx.stats.transactions.shift();
  } else {
    ctx.stats.settleFailed += 1;
  }
  ctx.log({
    level: result.success ? 'info' : 'warn', msg: 'settle', x402Version: request.x402Version, payer,
    success: result.success, transaction: result.transaction, errorReason: result.errorReason,
    ms: Math.round(performance.now() - started),
  });
  return result;
}

function parseRequest(body: string): Request {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new FacilitatorRequestError(400, 'invalid_json');
  }
  const parsed = FacilitatorRequest.safeParse(json);
  if (!parsed.success) throw new FacilitatorRequestError(400, 'invalid_request', describeRequestProblems(parsed.error));
  return parsed.data;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new FacilitatorRequestError(413, 'body_too_large', [`limit ${MAX_BODY_BYTES} bytes`]);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new FacilitatorRequestError(413, 'body_too_large', [`limit ${MAX_BODY_BYTES} bytes`]);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store',
    // An oversized body is left unread, so the connection cannot be reused.
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rpc: { type: 'string', default: 'http://127.0.0.1:8545' }, 'base-rpc': { type: 'string' }, port: { type: 'string', default: '4021' }, 'delay-ms': { type: 'string', default: '0' } },
  });
  const key = process.env.FACILITATOR_PRIVATE_KEY ?? LOCAL_ACCOUNTS.facilitator.privateKey;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error('FACILITATOR_PRIVATE_KEY must be a 32-byte 0x-hex key');
  const port = Number(values.port);
  const delayMs = Number(values['delay-ms']);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  if (!Number.isInteger(delayMs) || delayMs < 0) throw new Error(`--delay-ms must be a non-negative integer, got "${values['delay-ms']}"`);
  if (!/^https?:\/\/[^\s/]+/.test(values.rpc)) throw new Error(`--rpc must be an http(s) URL, got "${values.rpc}"`);
  const baseRpc = values['base-rpc'];
  if (baseRpc !== undefined && !/^https?:\/\/[^\s/]+/.test(baseRpc)) throw new Error(`--base-rpc must be an http(s) URL, got "${baseRpc}"`);
  const running = await startFacilitator({ rpcUrl: values.rpc, privateKey: key as Hex, port, delayMs, ...(baseRpc !== undefined ? { baseRpcUrl: baseRpc } : {}) });
  const shutdown = (): void => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', msg: 'facilitator failed to start', message: String(error) }));
    process.exit(1);
  });
}
