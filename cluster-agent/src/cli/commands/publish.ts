import { parseArgs } from 'node:util';
import type { PublishResult } from '../../publish/publish.js';

/**
 * `obol-edge publish --offers <dir> --edge <url>`: sign and push the offers in a directory once.
 * Prints what was published and the accepted sequence; on any failure prints the reason
 * (the edge's own error when it refused) and exits non-zero.
 */

export const PUBLISH_USAGE = `Usage: obol-edge publish --offers <dir> --edge <url> [options]

Reads ServiceOffer manifests from <dir>, builds the catalog snapshot, signs it with the key in
OBOL_CATALOG_KEY (0x + 64 hex digits) and pushes it to the edge.

Options:
  --offers <dir>          directory of ServiceOffer manifests (*.yaml, *.yml, *.json)
  --edge <url>            the edge's URL as reachable from here, e.g. http://127.0.0.1:8787
  --identity <file>       agent identity (name, description, image, registrations, supportedTrust)
  --audience <url>        the edge's public URL (default: read from the edge's catalog status)
  --key-file <file>       read the signing key from a file instead of OBOL_CATALOG_KEY
  --assume-healthy        skip the upstream health checks
  --probe-timeout <ms>    health check timeout (default 2000)
  --json                  print the result as one JSON object
  -h, --help              show this help
`;

const OPTIONS = {
  offers: { type: 'string' },
  edge: { type: 'string' },
  identity: { type: 'string' },
  audience: { type: 'string' },
  'key-file': { type: 'string' },
  'assume-healthy': { type: 'boolean' },
  'probe-timeout': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class UsageError extends Error {
  readonly reason = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function parsePublishArgs(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true as const };
  if (!values.offers) throw new UsageError('--offers <dir> is required');
  if (!values.edge) throw new UsageError('--edge <url> is required');
  for (const [flag, value] of [['--edge', values.edge], ['--audience', values.audience]] as const) {
    if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  const probeTimeoutMs = values['probe-timeout'] === undefined ? undefined : Number(values['probe-timeout']);
  if (probeTimeoutMs !== undefined && !(Number.isInteger(probeTimeoutMs) && probeTimeoutMs > 0)) {
    throw new UsageError('--probe-timeout must be a positive number of milliseconds');
  }
  return { help: false as const, ...values, offers: values.offers, edge: values.edge, probeTimeoutMs };
}

/** Human-readable lines: one per offer, then the accepted sequence. */
export function formatPublishReport(result: PublishResult): string {
  const lines = result.plan.decisions.map((d) => {
    const file = result.sources.get(d.key);
    const where = file ? ` (${file})` : '';
    const verdict = d.verdict;
    // The line for an unpublished offer is the verdict's first failing rule, in SPEC order.
    if (!verdict.published) {
      const probe = result.probes.get(d.key);
      switch (verdict.reason) {
        case 'InvalidSpec': return `  invalid      ${d.key}${where}: ${d.invalid ?? 'invalid spec'}`;
        case 'PathConflict': return `  conflict     ${d.key}${where}: path already owned by ${d.pathConflictWith ?? 'another offer'}`;
        case 'UpstreamUnhealthy': return `  unhealthy    ${d.key}${where}: ${probe?.detail ?? 'upstream not healthy'}${probe?.url ? ` [${probe.url}]` : ''}`;
        case 'PaymentUnresolved': return `  unpriced     ${d.key}${where}: ${d.payment && !d.payment.ok ? d.payment.message : 'payment not resolved'}`;
        default: break;
      }
    }
    const { published, phase } = verdict;
    const state = published ? (phase === 'draining' ? 'draining' : 'published') : phase;
    const drain = d.schedule && phase !== 'active' ? ` until ${d.schedule.drainEndsAt}` : '';
    return `  ${state.padEnd(12)} ${d.key} ${d.entry?.path ?? ''} ${d.entry?.price.display ?? ''}${drain}`;
  });
  const published = result.plan.decisions.filter((d) => d.verdict.published).length;
  return [
    `offers (${published} of ${result.plan.decisions.length} published):`,
    ...lines,
    `signed by ${result.signer} for audience ${result.audience} (${result.bytes} bytes)`,
    `accepted sequence ${result.sequence}`,
  ].join('\n');
}

function resultJson(result: PublishResult): string {
  const offers = result.plan.decisions.map((d) => ({
    key: d.key,
    published: d.verdict.published,
    phase: d.verdict.phase,
    ...(d.invalid ? { invalid: d.invalid } : {}),
    ...(result.sources.has(d.key) ? { file: result.sources.get(d.key) } : {}),
  }));
  const { sequence, audience, issuedAt, previousSequence, bytes, signer } = result;
  return JSON.stringify({ sequence, audience, issuedAt, previousSequence, bytes, signer, offers });
}

export async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parsePublishArgs>;
  try {
    args = parsePublishArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`obol-edge publish: ${error.message}\n\n${PUBLISH_USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(PUBLISH_USAGE);
    return 0;
  }
  try {
    // Loaded after argument parsing so --help and usage errors answer without loading viem.
    const [{ loadCatalogSigner }, { EMPTY_IDENTITY, loadIdentity }, { publishOnce }] = await Promise.all([
      import('../../publish/signer.js'),
      import('../../publish/identity.js'),
      import('../../publish/publish.js'),
    ]);
    const signer = await loadCatalogSigner({ env: process.env, ...(args['key-file'] ? { keyFile: args['key-file'] } : {}) });
    const identity = args.identity ? await loadIdentity(args.identity) : EMPTY_IDENTITY;
    const result = await publishOnce({
      offersDir: args.offers,
      edgeUrl: args.edge,
      signer,
      identity,
      ...(args.audience ? { audience: args.audience } : {}),
      assumeHealthy: args['assume-healthy'] ?? false,
      ...(args.probeTimeoutMs ? { probeTimeoutMs: args.probeTimeoutMs } : {}),
    });
    process.stdout.write(`${args.json ? resultJson(result) : formatPublishReport(result)}\n`);
    return 0;
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    process.stderr.write(`obol-edge publish: ${(error as Error).message}${typeof reason === 'string' ? ` [${reason}]` : ''}\n`);
    return 1;
  }
}
