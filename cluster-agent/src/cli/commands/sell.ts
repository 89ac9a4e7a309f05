import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { MAX_DRAIN_GRACE } from '../../../../core/index.js';
import { checkEdit, checkGrace, planStop, SellError } from '../../sell/drain-edit.js';
import { formatOfferTable, offerRow } from '../../sell/list-table.js';
import { createDirTarget } from '../../sell/dir-target.js';
import { createKubeTarget } from '../../sell/kube-target.js';
import type { SellTarget } from '../../sell/target.js';

/**
 * `obol-edge sell list|stop|resume`: drain and re-activate offers, in the cluster (merge patch) or in
 * a manifest directory (`--source dir:<path>`). Exit codes: 0 ok, 1 the operation failed, 2 usage
 * or an edit that would make the offer invalid.
 * `--now` drains at once (grace 0s); `--force` restarts the drain of an offer already draining.
 */

export const SELL_USAGE = `Usage:
  obol-edge sell list [-n <namespace>] [--source kube|dir:<path>]
  obol-edge sell stop <name> [-n <namespace>] [--grace <duration> | --now] [--force] [--source ...]
  obol-edge sell resume <name> [-n <namespace>] [--source ...]

stop     sets spec.drainAt to now (UTC, to the second) and spec.drainGracePeriod (--grace, else the
         offer's own grace, else 1h). The route keeps serving until drainAt + grace, then answers 410.
         An offer already draining is refused unless --force (which restarts the drain from now).
         An edit the agent would judge invalid (a grace over ${MAX_DRAIN_GRACE}) is refused with exit 2.
resume   removes spec.drainAt and spec.drainGracePeriod: the offer is active again.

Options:
  -n, --namespace <ns>   the offer's namespace (default: the kube context's, or "default")
  --grace <duration>     e.g. 30m, 1h30m, 0s; at most ${MAX_DRAIN_GRACE}
  --now                  drain at once: grace 0s (cannot be combined with --grace)
  --force                allow stopping an offer that is already draining or drained
  --source <source>      kube (default: KUBECONFIG, ~/.kube/config or in-cluster) or dir:<path>
  -h, --help             show this help
`;

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  grace: { type: 'string' },
  now: { type: 'boolean' },
  force: { type: 'boolean' },
  source: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SellIo {
  out(text: string): void;
  err(text: string): void;
}

export interface SellDeps {
  /** The cluster to use for `--source kube` (default: loaded from KUBECONFIG / in-cluster). */
  readonly kubeConfig?: KubeConfig;
  readonly nowMs?: () => number;
}

const defaultIo: SellIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

type SellArgs = ReturnType<typeof parseSellArgs>;

function parseSellArgs(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new SellError('usage', (error as Error).message);
  }
  const { values, positionals } = parsed;
  const [action, name, ...extra] = positionals;
  if (values.help) return { help: true as const, values, action: undefined, name: undefined };
  if (action !== 'list' && action !== 'stop' && action !== 'resume') throw new SellError('usage', action ? `unknown sell command "${action}"` : 'missing sell command (list, stop or resume)');
  if (action === 'list' ? name !== undefined : name === undefined || extra.length > 0) throw new SellError('usage', action === 'list' ? 'sell list takes no offer name' : `sell ${action} takes exactly one offer name`);
  if (action !== 'stop' && (values.grace !== undefined || values.now || values.force)) throw new SellError('usage', '--grace, --now and --force only apply to sell stop');
  if (values.grace !== undefined) checkGrace(values.grace);
  if (values.now && values.grace !== undefined) throw new SellError('usage', '--now drains at once (grace 0s); it cannot be combined with --grace');
  return { help: false as const, values, action, name };
}

function openTarget(source: string | undefined, deps: SellDeps): SellTarget {
  if (source === undefined || source === 'kube') {
    const kubeConfig = deps.kubeConfig ?? loadKubeConfig();
    return createKubeTarget(kubeConfig);
  }
  if (source.startsWith('dir:') && source.length > 4) return createDirTarget(source.slice(4));
  throw new SellError('usage', `--source must be "kube" or "dir:<path>", got "${source}"`);
}

function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster()) throw new SellError('source_failed', 'no cluster configured: set KUBECONFIG, run in a cluster, or use --source dir:<path>');
  return kubeConfig;
}

async function execute(args: SellArgs & { help: false }, target: SellTarget, io: SellIo, nowMs: number): Promise<void> {
  const namespace = args.values.namespace;
  if (args.action === 'list') {
    const records = await target.list(namespace);
    io.out(formatOfferTable(records.map((r) => offerRow(r, nowMs))));
    return;
  }
  const record = await target.get(namespace ?? target.defaultNamespace, args.name ?? '');
  const key = `${record.namespace}/${record.name}`;
  if (args.action === 'resume') {
    if (record.drain.drainAt === undefined && record.drain.drainGracePeriod === undefined) {
      io.out(`offer ${key} is not draining; nothing to do\n`);
      return;
    }
    checkEdit(record, null);
    await target.setDrain(record, null);
    io.out(`offer ${key} resumed: drainAt and drainGracePeriod removed (${target.where(record)})\n`);
    return;
  }
  const fields = planStop(record, { nowMs, immediately: args.values.now === true, force: args.values.force === true, ...(args.values.grace !== undefined ? { grace: args.values.grace } : {}) });
  await target.setDrain(record, fields);
  io.out(`offer ${key} draining: drainAt ${fields.drainAt}, grace ${fields.drainGracePeriod} (${target.where(record)})\n`);
}

export async function run(argv: string[], io: SellIo = defaultIo, deps: SellDeps = {}): Promise<number> {
  try {
    const args = parseSellArgs(argv);
    if (args.help) {
      io.out(SELL_USAGE);
      return 0;
    }
    await execute(args, openTarget(args.values.source, deps), io, (deps.nowMs ?? Date.now)());
    return 0;
  } catch (error) {
    if (error instanceof SellError) {
      io.err(`obol-edge sell: ${error.message}\n${error.reason === 'usage' ? SELL_USAGE : ''}`);
      return error.reason === 'usage' || error.reason === 'invalid_duration' || error.reason === 'invalid_offer' ? 2 : 1;
    }
    io.err(`obol-edge sell: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
