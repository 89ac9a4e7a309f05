import { KubeConfig } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../../../core/index.js';
import { startAgent } from '../../agent/agent.js';
import { DEFAULT_LEASE, DEFAULT_TIMINGS, type AgentConfig, type LeaderElectionConfig, type SourceConfig } from '../../agent/config.js';
import { createLogger, errorMessage, type LogLevel } from '../../agent/log.js';
import { parseGatewayRef } from '../../agent/routes.js';
import { EMPTY_IDENTITY, loadIdentity } from '../../publish/identity.js';
import { loadCatalogSigner } from '../../publish/signer.js';
import { assertDirectory } from '../../sources/dir.js';

/**
 * `obol-edge agent`: run the cluster agent until SIGTERM/SIGINT. Startup errors (no `--edge`, no
 * key, a bad source) are printed as one clear line and exit 2 (usage) or 1 (configuration).
 */

export const AGENT_USAGE = `Usage: obol-edge agent --edge <url> [--source kube|dir:<path>] [options]

Watches ServiceOffers, writes their status, manages their HTTPRoutes and keeps the edge's signed
catalog current. The signing key comes from OBOL_CATALOG_KEY or --key-file.

Options:
  --source <kube|dir:path>   where offers come from (default kube: in-cluster config or KUBECONFIG)
  --namespaces <a,b>         kube: watch only these namespaces (default: all)
  --edge <url>               the edge as reachable from the agent
  --audience <url>           the edge's public URL (default: from the edge's catalog status)
  --key-file <file>          signing key file (instead of OBOL_CATALOG_KEY)
  --identity <file>          ERC-8004 agent identity (YAML/JSON)
  --gateway <ns/name>        kube: parent Gateway of the managed HTTPRoutes
  --no-route-management      kube: do not create HTTPRoutes
  --no-leader-election       kube: run without a Lease (one replica only)
  --lease-namespace <ns>     Lease namespace (default $POD_NAMESPACE or "default")
  --lease-name <name>        Lease name (default ${DEFAULT_LEASE.name})
  --lease-duration <dur>     a standby takes the Lease after it went unrenewed this long (default 15s)
  --renew-deadline <dur>     the leader steps down when it could not renew for this long (default 10s;
                             less than --lease-duration)
  --retry-period <dur>       renew, or try to acquire, this often (default 2s; less than --renew-deadline)
  --edge-metrics-token <t>   re-export the edge's payment metrics (or EDGE_METRICS_TOKEN)
  --ops-addr <host:port>     health/readiness/metrics server (default 0.0.0.0:8080; "off" disables)
  --heartbeat <duration>     re-sign the catalog at least this often (default 10m)
  --status-poll <duration>   check the edge's sequence this often (default 30s)
  --health-interval <dur>    probe upstreams this often (default 10s)
  --log-level <level>        debug|info|warn|error (default info)
  -h, --help                 show this help
`;

const OPTIONS = {
  source: { type: 'string' },
  namespaces: { type: 'string' },
  edge: { type: 'string' },
  audience: { type: 'string' },
  'key-file': { type: 'string' },
  identity: { type: 'string' },
  gateway: { type: 'string' },
  'no-route-management': { type: 'boolean' },
  'no-leader-election': { type: 'boolean' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  'edge-metrics-token': { type: 'string' },
  'ops-addr': { type: 'string' },
  heartbeat: { type: 'string' },
  'status-poll': { type: 'string' },
  'health-interval': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class AgentUsageError extends Error {
  readonly reason = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'AgentUsageError';
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** A positive duration: `1h30m`-style, or whole milliseconds (`500ms`) for the sub-second lease timings. */
function duration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    const millis = /^(\d+)ms$/.exec(value);
    const ms = millis ? Number(millis[1]) : parseDuration(value);
    if (ms > 0 && Number.isSafeInteger(ms)) return ms;
  } catch {
    // reported below
  }
  throw new AgentUsageError(`${flag} must be a positive duration like "30s", "10m" or "500ms", got "${value}"`);
}

/** Lease timings as client-go checks them: a leader gives up before a standby may take over. */
function leaseTiming(values: Values): Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'> {
  const leaseDurationMs = duration('--lease-duration', values['lease-duration'], DEFAULT_LEASE.leaseDurationMs);
  const renewDeadlineMs = duration('--renew-deadline', values['renew-deadline'], DEFAULT_LEASE.renewDeadlineMs);
  const retryPeriodMs = duration('--retry-period', values['retry-period'], DEFAULT_LEASE.retryPeriodMs);
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new AgentUsageError(`--renew-deadline (${renewDeadlineMs} ms) must be less than --lease-duration (${leaseDurationMs} ms), so a leader steps down before a standby takes over`);
  }
  if (retryPeriodMs >= renewDeadlineMs) {
    throw new AgentUsageError(`--retry-period (${retryPeriodMs} ms) must be less than --renew-deadline (${renewDeadlineMs} ms), so a leader gets to retry a failed renewal`);
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

function parseSource(value: string | undefined, namespaces: string | undefined): SourceConfig {
  const spec = value ?? 'kube';
  if (spec.startsWith('dir:') && spec.length > 4) return { kind: 'dir', dir: resolve(spec.slice(4)) };
  if (spec !== 'kube') throw new AgentUsageError(`--source must be "kube" or "dir:<path>", got "${spec}"`);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new AgentUsageError(`--source kube: cannot load a kubeconfig (in-cluster or KUBECONFIG): ${errorMessage(error)}`);
  }
  if (!kubeConfig.getCurrentCluster()) throw new AgentUsageError('--source kube: no cluster configured (run in a pod or set KUBECONFIG)');
  const list = (namespaces ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return { kind: 'kube', kubeConfig, namespaces: list };
}

function parseOps(value: string | undefined): AgentConfig['ops'] {
  if (value === 'off') return undefined;
  const match = /^(.*):(\d{1,5})$/.exec(value ?? '0.0.0.0:8080');
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new AgentUsageError(`--ops-addr must be <host>:<port> or "off", got "${value}"`);
  return { host: match[1] || '0.0.0.0', port };
}

function checkUrl(flag: string, value: string | undefined): void {
  if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) throw new AgentUsageError(`${flag} must be an http(s) URL, got "${value}"`);
}

/** Flags → config; every problem is an AgentUsageError naming the flag. */
export async function agentConfigFromArgs(values: Values, env: NodeJS.ProcessEnv, onLostLeadership: () => void): Promise<AgentConfig> {
  if (!values.edge) throw new AgentUsageError('--edge <url> is required (the edge as reachable from the agent)');
  checkUrl('--edge', values.edge);
  checkUrl('--audience', values.audience);
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new AgentUsageError('--log-level must be debug, info, warn or error');
  const source = parseSource(values.source, values.namespaces);
  if (source.kind === 'dir') await assertDirectory(source.dir).catch((error: unknown) => { throw new AgentUsageError(errorMessage(error)); });
  const routeManagement = source.kind === 'kube' && !values['no-route-management'];
  if (routeManagement && !values.gateway) throw new AgentUsageError('--gateway <namespace>/<name> is required with route management (or pass --no-route-management)');
  const signer = await loadCatalogSigner({ env, ...(values['key-file'] ? { keyFile: values['key-file'] } : {}) });
  const identity = values.identity ? await loadIdentity(values.identity) : EMPTY_IDENTITY;
  const token = values['edge-metrics-token'] ?? env.EDGE_METRICS_TOKEN;
  const election = source.kind === 'kube' && !values['no-leader-election'];
  const leaseTimings = leaseTiming(values);
  const ops = parseOps(values['ops-addr']);
  return {
    source,
    edgeUrl: values.edge,
    ...(values.audience ? { audience: values.audience } : {}),
    signer,
    identity,
    ...(routeManagement && values.gateway ? { gateway: parseGatewayRef(values.gateway) } : {}),
    ...(election
      ? {
          leaderElection: {
            ...leaseTimings,
            name: values['lease-name'] ?? DEFAULT_LEASE.name,
            namespace: values['lease-namespace'] ?? env.POD_NAMESPACE ?? 'default',
            identity: `${env.POD_NAME ?? hostname()}-${process.pid}`,
          },
        }
      : {}),
    ...(ops ? { ops } : {}),
    ...(token ? { edgeMetricsToken: token } : {}),
    timing: {
      ...DEFAULT_TIMINGS.pusher,
      heartbeatMs: duration('--heartbeat', values.heartbeat, DEFAULT_TIMINGS.pusher.heartbeatMs),
      statusPollMs: duration('--status-poll', values['status-poll'], DEFAULT_TIMINGS.pusher.statusPollMs),
    },
    healthIntervalMs: duration('--health-interval', values['health-interval'], DEFAULT_TIMINGS.healthIntervalMs),
    probeTimeoutMs: DEFAULT_TIMINGS.probeTimeoutMs,
    resyncMs: DEFAULT_TIMINGS.resyncMs,
    log: createLogger({ level, base: { component: 'agent' } }),
    onLostLeadership,
  };
}

export async function run(argv: string[]): Promise<number> {
  let values: Values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    process.stderr.write(`obol-edge agent: ${errorMessage(error)}\n${AGENT_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return 0;
  }
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  let config: AgentConfig;
  try {
    config = await agentConfigFromArgs(values, process.env, () => exit(1));
  } catch (error) {
    process.stderr.write(`obol-edge agent: ${errorMessage(error)}\n`);
    return error instanceof AgentUsageError ? 2 : 1;
  }
  const agent = await startAgent(config);
  config.log.info('agent started', { source: config.source.kind, edge: config.edgeUrl, signer: config.signer.address, ops: agent.opsUrl ?? null });
  const onSignal = (signal: string) => {
    config.log.info('shutting down', { signal });
    exit(0);
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const code = await exited;
  await agent.stop();
  config.log.info('agent stopped', { exitCode: code });
  return code;
}
