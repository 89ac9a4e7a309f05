import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { z } from 'zod';
import { startAgent, type RunningAgent } from '../cluster-agent/src/agent/agent.js';
import { DEFAULT_TIMINGS } from '../cluster-agent/src/agent/config.js';
import { createLogger } from '../cluster-agent/src/agent/log.js';
import { EMPTY_IDENTITY, loadIdentity } from '../cluster-agent/src/publish/identity.js';
import { catalogSigner, type CatalogSigner } from '../cluster-agent/src/publish/signer.js';
import { assertDirectory } from '../cluster-agent/src/sources/dir.js';
import { LOCAL_ACCOUNTS, startChain, type LocalChain } from './chain.js';
import { startDemoUpstream } from './demo-upstream.js';
import { startFacilitator, type LocalFacilitator } from './facilitator.js';
import { copyOffersForStack, offersMatchStack } from './local-offers.js';
import { assertPortFree, NotReadyError, Stack } from './processes.js';
import { freePort, startWranglerEdge } from './wrangler-edge.js';

/**
 * The whole local stack, in dependency order: chains (Base Sepolia, then Base as the second way to
 * pay) → facilitator → demo upstream (the seller's
 * origin, standing in for the cloudflared tunnel) → edge under `wrangler dev` → the cluster-agent
 * (in-process, `dir:` source) publishing the offers. `stop()` tears it down in reverse order.
 * Used by `npm run dev` (fixed ports) and by the end-to-end tests (ports chosen by the OS).
 */

export interface LocalStackPorts {
  /** 0 or absent: chosen by the OS. */
  readonly edge?: number;
  readonly upstream?: number;
  readonly facilitator?: number;
  readonly chain?: number;
  /** The second chain (Base, chain id 8453). */
  readonly baseChain?: number;
}

export interface LocalStackOptions {
  /** ServiceOffer manifests; watched in place when they name this stack's URLs, else copied. */
  readonly offersDir: string;
  readonly identityFile?: string;
  readonly ports?: LocalStackPorts;
  /** The catalog signing key; default a fresh one for this run. Never logged. */
  readonly catalogKey?: string;
  /** Durable Object state (`wrangler dev --persist-to`); default a temp dir removed at stop. */
  readonly persistDir?: string;
  /** Extra edge settings (e.g. METRICS_TOKEN); the stack's own URLs and signer win. */
  readonly edgeVars?: Readonly<Record<string, string>>;
  /** Every log line of every part, tagged with the part; default stdout `[part] line`. */
  readonly log?: (part: string, line: string) => void;
  readonly readyTimeoutMs?: number;
}

export interface LocalStack {
  readonly edgeUrl: string;
  readonly upstreamUrl: string;
  readonly facilitatorUrl: string;
  readonly rpcUrl: string;
  /** The second chain's RPC (Base, chain id 8453, the token at Base's USDC address). */
  readonly baseRpcUrl: string;
  /** The directory the agent watches (edit it to change offers). */
  readonly offersDir: string;
  readonly catalogSigner: string;
  readonly accounts: typeof LOCAL_ACCOUNTS;
  readonly chain: LocalChain;
  readonly baseChain: LocalChain;
  readonly facilitator: LocalFacilitator;
  readonly agent: RunningAgent;
  /** Resolves with wrangler's exit code if the edge process ends (on its own or by `stop()`). */
  readonly edgeExited: Promise<number | null>;
  /** Milliseconds from start until each part was ready. */
  readonly timings: Readonly<Record<'chain' | 'facilitator' | 'upstream' | 'edge' | 'agent' | 'catalog', number>>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const defaultLog = (part: string, line: string): void => void process.stdout.write(`[${part}] ${line}\n`);

const ServicesDocument = z.object({ services: z.array(z.object({ name: z.string() })) });

/** Fixed ports are checked up front, so a busy port fails before anything starts. */
async function checkFixedPorts(ports: LocalStackPorts): Promise<void> {
  const named: Array<[number | undefined, string]> = [
    [ports.chain, 'the local chain (anvil)'], [ports.baseChain, 'the second local chain (anvil as Base)'], [ports.facilitator, 'the facilitator'],
    [ports.upstream, 'the demo upstream (ORIGIN_URL)'], [ports.edge, 'the edge (wrangler dev)'],
  ];
  for (const [port, purpose] of named) if (port) await assertPortFree(port, HOST, purpose);
}

/** Wait until the edge serves a catalog listing at least one offer. */
async function waitForCatalog(edgeUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let detail = 'no answer yet';
  while (Date.now() < deadline) {
    const res = await fetch(`${edgeUrl}/api/services.json`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.ok) {
      const doc = ServicesDocument.safeParse(await res.json());
      if (doc.success && doc.data.services.length > 0) return;
      detail = 'catalog has no published offers yet';
    } else {
      await res?.body?.cancel();
      detail = res ? `last answer ${res.status}` : 'unreachable';
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new NotReadyError(`${edgeUrl}/api/services.json`, timeoutMs, detail);
}

interface StartContext {
  readonly options: LocalStackOptions;
  readonly ports: LocalStackPorts;
  readonly log: (part: string, line: string) => void;
  readonly readyTimeoutMs: number;
  readonly workDir: string;
  readonly stack: Stack;
  readonly mark: (part: keyof LocalStack['timings']) => void;
}

/** Chain → facilitator → demo upstream: what the edge needs to exist before it starts. */
async function startBackends(ctx: StartContext) {
  const chain = await startChain({ port: ctx.ports.chain ?? 0 });
  ctx.stack.add('chain', () => chain.stop());
  const baseChain = await startChain({ network: 'base', port: ctx.ports.baseChain ?? 0 });
  ctx.stack.add('base chain', () => baseChain.stop());
  ctx.mark('chain');
  const facilitator = await startFacilitator({
    rpcUrl: chain.rpcUrl, baseRpcUrl: baseChain.rpcUrl, privateKey: LOCAL_ACCOUNTS.facilitator.privateKey, port: ctx.ports.facilitator ?? 0,
    log: (entry) => ctx.log('facilitator', JSON.stringify(entry)),
  });
  ctx.stack.add('facilitator', () => facilitator.stop());
  ctx.mark('facilitator');
  const upstream = await startDemoUpstream({ port: ctx.ports.upstream ?? 0, host: HOST });
  ctx.stack.add('demo upstream', () => upstream.close());
  ctx.mark('upstream');
  return { chain, baseChain, facilitator, upstream };
}

/** The agent publishing the offers; resolves once the edge acknowledged its first push. */
async function startPublisher(ctx: StartContext, edgeUrl: string, offersDir: string, signer: CatalogSigner): Promise<RunningAgent> {
  const agent = await startAgent({
    source: { kind: 'dir', dir: offersDir },
    edgeUrl,
    signer,
    identity: ctx.options.identityFile ? await loadIdentity(ctx.options.identityFile) : EMPTY_IDENTITY,
    timing: { ...DEFAULT_TIMINGS.pusher, statusPollMs: 5_000, backoffBaseMs: 200, backoffMaxMs: 5_000 },
    healthIntervalMs: 2_000,
    probeTimeoutMs: 1_000,
    resyncMs: DEFAULT_TIMINGS.resyncMs,
    log: createLogger({ level: 'info', base: { component: 'agent' }, write: (line) => ctx.log('agent', line) }),
    onLostLeadership: () => undefined,
  });
  ctx.stack.add('agent', () => agent.stop());
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([agent.ready, new Promise((resolve) => (timer = setTimeout(resolve, ctx.readyTimeoutMs)))]);
  clearTimeout(timer);
  if (!agent.isReady()) throw new NotReadyError(`${edgeUrl}/_obol/v1/catalog`, ctx.readyTimeoutMs, 'the agent got no acknowledged push');
  ctx.mark('agent');
  return agent;
}

/** Start everything; on any failure what already started is stopped and the error rethrown. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const started = performance.now();
  const ports = options.ports ?? {};
  await checkFixedPorts(ports);
  await assertDirectory(options.offersDir);
  const signer = catalogSigner(options.catalogKey ?? generatePrivateKey(), 'the local stack catalog key');
  const workDir = mkdtempSync(join(tmpdir(), 'obol-stack-'));
  const stack = new Stack();
  stack.add('work dir', async () => rmSync(workDir, { recursive: true, force: true }));
  const timings = { chain: 0, facilitator: 0, upstream: 0, edge: 0, agent: 0, catalog: 0 };
  const ctx: StartContext = {
    options, ports, stack, workDir, log: options.log ?? defaultLog, readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    mark: (part) => void (timings[part] = Math.round(performance.now() - started)),
  };
  try {
    const { chain, baseChain, facilitator, upstream } = await startBackends(ctx);
    const edgePort = ports.edge || (await freePort());
    const edge = await startWranglerEdge({
      port: edgePort,
      vars: {
        ...options.edgeVars, PUBLIC_BASE_URL: `http://${HOST}:${edgePort}`, CATALOG_SIGNERS: signer.address,
        ORIGIN_URL: upstream.url, FACILITATOR_URL: facilitator.url, VERIFY_MODE: 'facilitator',
        CHAIN_RPC_URLS: `${chain.network.caip2}=${chain.rpcUrl},${baseChain.network.caip2}=${baseChain.rpcUrl}`,
      },
      workDir,
      persistDir: options.persistDir ?? join(workDir, 'state'),
      onLine: (line) => ctx.log('edge', line),
      readyTimeoutMs: ctx.readyTimeoutMs,
    });
    stack.addProcess(edge.process);
    ctx.mark('edge');
    const urls = { upstreamUrl: upstream.url, edgeUrl: edge.url };
    const offersDir = offersMatchStack(urls) ? options.offersDir : await copyOffersForStack(options.offersDir, join(workDir, 'offers'), urls);
    const agent = await startPublisher(ctx, edge.url, offersDir, signer);
    await waitForCatalog(edge.url, ctx.readyTimeoutMs);
    ctx.mark('catalog');
    return {
      edgeUrl: edge.url, upstreamUrl: upstream.url, facilitatorUrl: facilitator.url, rpcUrl: chain.rpcUrl, baseRpcUrl: baseChain.rpcUrl, offersDir,
      catalogSigner: signer.address, accounts: LOCAL_ACCOUNTS, chain, baseChain, facilitator, agent,
      edgeExited: edge.process.exited, timings, stop: () => stack.stopAll(),
    };
  } catch (error) {
    await stack.stopAll();
    throw error;
  }
}
