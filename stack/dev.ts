import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPublishReport } from '../cluster-agent/src/cli/commands/publish.js';
import { loadIdentity } from '../cluster-agent/src/publish/identity.js';
import { publishOnce } from '../cluster-agent/src/publish/publish.js';
import { catalogSigner } from '../cluster-agent/src/publish/signer.js';
import { startDemoUpstream, DEFAULT_UPSTREAM_PORT } from './demo-upstream.js';
import { DEV_PUBLIC_BASE_URL, ensureDevVars } from './dev-vars.js';
import { Stack, assertPortFree, spawnManaged, waitForHttp, type ManagedProcess } from './processes.js';

/**
 * `npm run dev`, version 1: the demo upstream (the seller's origin), the edge under `wrangler dev`,
 * and a one-shot publish of `examples/offers`. Each step is a function that registers what it
 * starts with the `Stack`; later steps (local chain + facilitator, the long-running agent instead
 * of the one-shot publish) slot in as more of them. Ctrl-C / SIGTERM stops everything.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const EDGE_PORT = 8787;
const EDGE_URL = `http://${HOST}:${EDGE_PORT}`;

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', component: 'dev', msg, ...fields })}\n`);
}

async function startUpstream(stack: Stack): Promise<string> {
  await assertPortFree(DEFAULT_UPSTREAM_PORT, HOST, 'the demo upstream (ORIGIN_URL)');
  const upstream = await startDemoUpstream({ port: DEFAULT_UPSTREAM_PORT, host: HOST });
  stack.add('demo upstream', () => upstream.close());
  log('demo upstream listening', { url: upstream.url });
  return upstream.url;
}

async function startEdge(stack: Stack): Promise<ManagedProcess> {
  await assertPortFree(EDGE_PORT, HOST, 'the edge (wrangler dev)');
  const edge = stack.addProcess(
    spawnManaged({
      name: 'edge',
      command: join(ROOT, 'node_modules', '.bin', 'wrangler'),
      args: ['dev', '--port', String(EDGE_PORT), '--ip', HOST, '--show-interactive-dev-session=false'],
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    }),
  );
  await waitForHttp(`${EDGE_URL}/healthz`, { timeoutMs: 60_000, alive: () => !edge.hasExited() });
  log('edge ready', { url: EDGE_URL });
  return edge;
}

async function publishExamples(catalogKey: string): Promise<void> {
  const result = await publishOnce({
    offersDir: join(ROOT, 'examples', 'offers'),
    edgeUrl: EDGE_URL,
    signer: catalogSigner(catalogKey, '.dev.vars OBOL_CATALOG_KEY'),
    identity: await loadIdentity(join(ROOT, 'examples', 'identity.yaml')),
  });
  process.stdout.write(`${formatPublishReport(result)}\n`);
}

function printUrls(): void {
  const base = DEV_PUBLIC_BASE_URL;
  process.stdout.write(
    [
      '',
      'Obol Edge is running locally. Try:',
      `  curl ${base}/skill.md`,
      `  curl ${base}/api/services.json`,
      `  curl ${base}/.well-known/agent-registration.json`,
      `  curl ${base}/_obol/v1/catalog/status`,
      `  curl -i ${base}/services/weather?city=Berlin        # a paid path: 402 with the x402 challenge`,
      `  curl -i -X POST ${base}/services/llama/v1/chat/completions -d '{"messages":[{"role":"user","content":"hi"}]}'`,
      'Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const stack = new Stack();
  let exiting = false;
  const shutdown = (code: number) => {
    if (exiting) return;
    exiting = true;
    log('stopping');
    void stack.stopAll().then(() => process.exit(code));
  };
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));
  try {
    const devVars = ensureDevVars(join(ROOT, '.dev.vars'));
    log(devVars.created ? 'created .dev.vars with a fresh development key' : 'using .dev.vars', { catalogSigner: devVars.signer });
    await startUpstream(stack);
    const edge = await startEdge(stack);
    void edge.exited.then((code) => {
      if (!exiting) process.stderr.write(`the edge (wrangler dev) exited with code ${code}\n`);
      shutdown(1);
    });
    await publishExamples(devVars.catalogKey);
    printUrls();
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    process.stderr.write(`npm run dev: ${(error as Error).message}${typeof reason === 'string' ? ` [${reason}]` : ''}\n`);
    shutdown(1);
  }
}

await main();
