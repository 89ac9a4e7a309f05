import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_UPSTREAM_PORT } from './demo-upstream.js';
import { ensureDevVars } from './dev-vars.js';
import { registerDevAgent } from './identity.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './local-stack.js';

/**
 * `npm run dev`: the whole stack on this machine with no cloud account and no cluster — a local
 * chain (anvil) and the official x402 facilitator, the demo upstream (the seller's origin), the
 * edge under `wrangler dev` and the cluster-agent publishing `examples/offers` (dir: source,
 * watched: edit a manifest or run `obol-edge sell stop … --source dir:examples/offers`).
 * Ctrl-C / SIGTERM stops everything.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Fixed, documented ports (docs/local-stack.md); `demo:buy` defaults to the edge's. */
export const DEV_PORTS = { edge: 8787, upstream: DEFAULT_UPSTREAM_PORT, facilitator: 4021, chain: 8545, baseChain: 8546 } as const;
export const DEV_PAID_PATH = '/services/weather';

/** The options `npm run dev` starts the stack with. */
export function devStackOptions(catalogKey: string, edgeVars: Readonly<Record<string, string>> = {}): LocalStackOptions {
  return {
    offersDir: join(ROOT, 'examples', 'offers'),
    identityFile: join(ROOT, 'examples', 'identity.yaml'),
    ports: DEV_PORTS,
    catalogKey,
    persistDir: join(ROOT, '.wrangler', 'state'),
    edgeVars,
  };
}

/** What `npm run dev` prints once the stack is up. */
export function formatDevBanner(stack: Pick<LocalStack, 'edgeUrl' | 'facilitatorUrl' | 'rpcUrl' | 'baseRpcUrl' | 'upstreamUrl' | 'offersDir' | 'accounts' | 'timings'>): string {
  const base = stack.edgeUrl;
  return [
    '',
    `Obol Edge is running locally (ready in ${(stack.timings.catalog / 1000).toFixed(1)} s). Try:`,
    `  curl ${base}/skill.md`,
    `  curl ${base}/api/services.json`,
    `  curl ${base}/.well-known/agent-registration.json`,
    `  curl -i ${base}${DEV_PAID_PATH}?city=Berlin        # a paid path: 402 with the x402 challenge`,
    `  npm run demo:buy -- ${DEV_PAID_PATH}                 # pay for it with the local buyer wallet`,
    `  npm run demo:buy -- /services/llama/v1/chat/completions --method POST --data '{"messages":[{"role":"user","content":"hi"}]}'`,
    '',
    `  edge ${base} · origin ${stack.upstreamUrl} · facilitator ${stack.facilitatorUrl} · chain ${stack.rpcUrl} (id 84532) · second chain ${stack.baseRpcUrl} (id 8453, as Base)`,
    `  buyer ${stack.accounts.buyer.address} (1000 test USDC on each chain) pays seller ${stack.accounts.seller.address}; weather accepts either chain`,
    `  offers: ${stack.offersDir} (watched; try npm run obol-edge -- sell stop weather -n apis --source dir:examples/offers --grace 2m)`,
    'Stop with Ctrl-C.',
    '',
  ].join('\n');
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', component: 'dev', msg, ...fields })}\n`);
}

/** `.dev.vars` minus the catalog key: the edge never needs the private key. */
function edgeVarsFrom(values: Readonly<Record<string, string>>): Record<string, string> {
  const { OBOL_CATALOG_KEY: _key, ...rest } = values;
  return rest;
}

/**
 * Flags for tests and side-by-side runs: `--dev-vars <file>` (default ./.dev.vars) and
 * `--free-ports` (ports chosen by the OS, edge state in a temp dir instead of .wrangler/state).
 */
function devFlags(): { devVarsPath: string; freePorts: boolean } {
  const { values } = parseArgs({ options: { 'dev-vars': { type: 'string' }, 'free-ports': { type: 'boolean', default: false } } });
  return { devVarsPath: values['dev-vars'] ?? join(ROOT, '.dev.vars'), freePorts: values['free-ports'] };
}

async function main(): Promise<void> {
  let stack: LocalStack | undefined;
  let exiting = false;
  const shutdown = (code: number) => {
    if (exiting) return;
    exiting = true;
    log('stopping');
    void (stack?.stop() ?? Promise.resolve()).then(() => process.exit(code));
  };
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));
  try {
    const flags = devFlags();
    const devVars = ensureDevVars(flags.devVarsPath);
    log(devVars.created ? 'created .dev.vars with a fresh development key' : 'using .dev.vars', { path: devVars.path, catalogSigner: devVars.signer });
    const options = devStackOptions(devVars.catalogKey, edgeVarsFrom(devVars.values));
    stack = await startLocalStack(flags.freePorts ? { ...options, ports: {}, persistDir: undefined } : options);
    const { agentId, agentRegistry, agentURI } = await registerDevAgent({ rpcUrl: stack.rpcUrl, edgeUrl: stack.edgeUrl, identityFile: options.identityFile ?? '' });
    log('registered the demo agent on the local chain (ERC-8004)', { agentId, agentRegistry, agentURI });
    void stack.edgeExited.then((code) => {
      if (!exiting) process.stderr.write(`the edge (wrangler dev) exited with code ${String(code)}; stopping the stack\n`);
      shutdown(1);
    });
    process.stdout.write(formatDevBanner(stack));
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    process.stderr.write(`npm run dev: ${(error as Error).message}${typeof reason === 'string' ? ` [${reason}]` : ''}\n`);
    shutdown(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
