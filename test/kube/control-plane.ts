import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CRD_PATH } from '../../cluster-agent/deploy/generate-crd.js';
import { freePort, freePorts } from '../../stack/wrangler-edge.js';
import { ensureBinaries, type ControlPlaneBinaries } from './binaries.js';

/**
 * A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (client certificates, RBAC,
 * service-account token signing, an audit log) and kube-controller-manager (garbage collector and
 * namespace controller), in a fresh state folder, with the Gateway API standard CRDs and our
 * ServiceOffer CRD installed. No kubelet, scheduler or network: objects are real, pods never run.
 */

const execFileAsync = promisify(execFile);

export interface ApiServerOptions {
  /** Serve watches from the watch cache (the default, as in any cluster); false serves them from etcd. */
  readonly watchCache?: boolean;
  /** `--min-request-timeout`: watches end after 1–2× this many seconds (default 1800, as upstream). */
  readonly minRequestTimeoutSeconds?: number;
}

export interface ControlPlaneOptions extends ApiServerOptions {
  /** Where state goes; default a fresh temporary folder, removed on stop. */
  readonly stateDir?: string;
  /** Progress lines (the first build is long). */
  readonly onProgress?: (message: string) => void;
}

export interface ApiServer {
  readonly url: string;
  /** An admin (system:masters) kubeconfig for this API server. */
  readonly kubeconfigPath: string;
}

/** What a test process needs to reach a running control plane (plain data: it crosses processes). */
export interface ControlPlaneInfo extends ApiServer {
  readonly stateDir: string;
  readonly etcdUrl: string;
  readonly binaries: ControlPlaneBinaries;
}

export interface RunningControlPlane {
  readonly info: ControlPlaneInfo;
  stop(): Promise<void>;
}

/** A handle on a running control plane, from any process that has its info. */
export interface ControlPlane extends ControlPlaneInfo {
  /** Runs kubectl as the admin (or with the given kubeconfig); never throws on a non-zero exit. */
  kubectl(args: readonly string[], options?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** Like kubectl, but a non-zero exit throws with kubectl's message. */
  mustKubectl(args: readonly string[], options?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** A kubeconfig holding a fresh token of this ServiceAccount (`kubectl create token`). */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** Another API server on the same etcd (e.g. one that serves watches from etcd), stopped by the caller. */
  startApiServer(options: ApiServerOptions): Promise<ApiServer & { auditEvents(): Promise<AuditEvent[]>; stop(): Promise<void> }>;
  /** The main API server's audit events so far (level Metadata, one per request, ResponseStarted for watches too). */
  auditEvents(): Promise<AuditEvent[]>;
  /** Compact etcd's history up to its current revision, as the API server's compactor does; returns that revision. */
  compactEtcd(): Promise<number>;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { username: string; groups?: string[] };
  readonly objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  readonly responseStatus?: { code?: number };
  readonly userAgent?: string;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/** Whether an audited request changed something (server-side apply is a `patch`). */
export const isWrite = (event: AuditEvent): boolean => WRITE_VERBS.has(event.verb);

const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # the control plane's own traffic is not what the tests look at
  - level: None
    users: ["system:apiserver", "system:kube-controller-manager"]
  - level: Metadata
`;

interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
}

/** Children to kill if the test process dies without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(name: string, binary: string, args: readonly string[], stateDir: string): Managed {
  const logPath = join(stateDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { name, child, logPath };
}

async function lastLines(path: string, count = 15): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-count).join('\n');
}

async function stopProcess(managed: Managed, timeoutMs = 10_000): Promise<void> {
  const { child } = managed;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Poll until `check` is true, failing with the process's last log lines when it exits or times out. */
async function waitUntil(what: string, managed: Managed, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (managed.child.exitCode !== null) throw new Error(`${managed.name} exited (${managed.child.exitCode}) before ${what}:\n${await lastLines(managed.logPath)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${managed.name}: timed out waiting for ${what}:\n${await lastLines(managed.logPath)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Pki {
  readonly dir: string;
  readonly ca: string;
  file(name: string): string;
}

/** GET `path` from the API server with a client certificate; resolves to the status code and body. */
function apiGet(url: string, pki: Pki, client: string, path: string): Promise<{ status: number; body: string }> {
  return Promise.all([readFile(pki.ca), readFile(pki.file(`${client}.crt`)), readFile(pki.file(`${client}.key`))]).then(
    ([ca, cert, key]) =>
      new Promise((resolve, reject) => {
        const req = request(new URL(path, url), { ca, cert, key, timeout: 2000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      }),
  );
}

async function writeKubeconfig(path: string, server: string, pki: Pki, user: { client?: string; token?: string }): Promise<void> {
  const b64 = async (name: string) => (await readFile(pki.file(name))).toString('base64');
  const credentials = user.token
    ? { token: user.token }
    : { 'client-certificate-data': await b64(`${user.client}.crt`), 'client-key-data': await b64(`${user.client}.key`) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'obol-local', cluster: { server, 'certificate-authority-data': await b64('ca.crt') } }],
    users: [{ name: 'user', user: credentials }],
    contexts: [{ name: 'obol-local', context: { cluster: 'obol-local', user: 'user' } }],
    'current-context': 'obol-local',
  };
  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}

async function startEtcd(binaries: ControlPlaneBinaries, stateDir: string): Promise<{ managed: Managed; url: string }> {
  // Asked together: two ports asked one after the other can be the same one, and etcd then cannot bind its second listener.
  const [clientPort, peerPort] = await freePorts(2);
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const managed = launch('etcd', binaries.path.etcd, [
    '--name=obol',
    `--data-dir=${join(stateDir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=obol=${peer}`,
    '--log-level=warn',
    // a test cluster's state is thrown away: no fsync per write
    '--unsafe-no-fsync',
  ], stateDir);
  await waitUntil('etcd health', managed, async () => {
    const res = await fetch(`${url}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  }, 30_000);
  return { managed, url };
}

async function startKubeApiServer(binaries: ControlPlaneBinaries, stateDir: string, pki: Pki, etcdUrl: string, name: string, options: ApiServerOptions): Promise<{ managed: Managed; url: string; kubeconfigPath: string }> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const auditPolicy = join(stateDir, 'audit-policy.yaml');
  await writeFile(auditPolicy, AUDIT_POLICY);
  const managed = launch(name, binaries.path['kube-apiserver'], [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // the kubernetes Service's endpoints may not be loopback, and nothing here routes to it
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.file('apiserver.crt')}`,
    `--tls-private-key-file=${pki.file('apiserver.key')}`,
    `--client-ca-file=${pki.ca}`,
    '--authorization-mode=RBAC',
    // on top of the defaults, as OpenShift enables it: setting blockOwnerDeletion then needs update on the owner's finalizers
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${pki.file('sa.pub')}`,
    `--service-account-signing-key-file=${pki.file('sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    `--audit-policy-file=${auditPolicy}`,
    `--audit-log-path=${join(stateDir, `${name}-audit.log`)}`,
    // one file, never rotated (the default rotates at 100 MB): tests and the bench slice it by position
    '--audit-log-maxsize=0',
    `--watch-cache=${options.watchCache ?? true}`,
    `--min-request-timeout=${options.minRequestTimeoutSeconds ?? 1800}`,
    '--profiling=false',
    `--cert-dir=${join(stateDir, `${name}-certs`)}`,
  ], stateDir);
  await waitUntil('kube-apiserver /readyz', managed, async () => (await apiGet(url, pki, 'admin', '/readyz')).status === 200, 90_000);
  const kubeconfigPath = join(stateDir, `${name}-admin.kubeconfig`);
  await writeKubeconfig(kubeconfigPath, url, pki, { client: 'admin' });
  return { managed, url, kubeconfigPath };
}

async function startControllerManager(binaries: ControlPlaneBinaries, stateDir: string, pki: Pki, apiUrl: string): Promise<Managed> {
  const kubeconfig = join(stateDir, 'controller-manager.kubeconfig');
  await writeKubeconfig(kubeconfig, apiUrl, pki, { client: 'controller-manager' });
  const managed = launch('kube-controller-manager', binaries.path['kube-controller-manager'], [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    `--cert-dir=${join(stateDir, 'controller-manager-certs')}`,
    '--leader-elect=false',
    // owner-reference garbage collection and namespace deletion; nothing here runs pods
    '--controllers=garbagecollector,namespace,serviceaccount',
    '--concurrent-gc-syncs=5',
  ], stateDir);
  await waitUntil('kube-controller-manager /healthz', managed, async () => {
    const log = await readFile(managed.logPath, 'utf8').catch(() => '');
    return /Started controller|Starting controller|Waiting for caches to sync/i.test(log);
  }, 60_000);
  return managed;
}

async function readAudit(stateDir: string, apiServerName: string): Promise<AuditEvent[]> {
  const text = await readFile(join(stateDir, `${apiServerName}-audit.log`), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent);
}

function pkiOf(stateDir: string): Pki {
  const dir = join(stateDir, 'pki');
  return { dir, ca: join(dir, 'ca.crt'), file: (name) => join(dir, name) };
}

/** Start etcd, the API server and the controller manager, and install the CRDs. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const binaries = await ensureBinaries(progress);
  const ownState = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'obol-kube-')));
  await mkdir(stateDir, { recursive: true });
  const processes: Managed[] = [];
  const stop = async () => {
    for (const managed of processes.splice(0).reverse()) await stopProcess(managed);
    if (ownState) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    await execFileAsync(binaries.path.pki, [join(stateDir, 'pki')]);
    const pki = pkiOf(stateDir);
    const etcd = await startEtcd(binaries, stateDir);
    processes.push(etcd.managed);
    const api = await startKubeApiServer(binaries, stateDir, pki, etcd.url, 'kube-apiserver', options);
    processes.push(api.managed);
    processes.push(await startControllerManager(binaries, stateDir, pki, api.url));
    const info: ControlPlaneInfo = { stateDir, etcdUrl: etcd.url, binaries, url: api.url, kubeconfigPath: api.kubeconfigPath };
    const plane = attachControlPlane(info);
    await plane.mustKubectl(['apply', '--server-side', '-f', binaries.gatewayApiCrdDir, '-f', CRD_PATH]);
    await plane.mustKubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    progress(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function attachControlPlane(info: ControlPlaneInfo): ControlPlane {
  const pki = pkiOf(info.stateDir);
  let extraServers = 0;
  const kubectl = async (args: readonly string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const child = execFile(info.binaries.path.kubectl, [`--kubeconfig=${opts.kubeconfig ?? info.kubeconfigPath}`, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
      // kubectl may exit before reading its input (e.g. a usage error): that is its answer, not ours to throw.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input ?? '');
    });
  const mustKubectl = async (args: readonly string[], opts: { input?: string; kubeconfig?: string } = {}) => {
    const result = await kubectl(args, opts);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
    return result;
  };
  return {
    ...info,
    kubectl,
    mustKubectl,
    async serviceAccountKubeconfig(namespace, name) {
      const token = (await mustKubectl(['create', 'token', name, '-n', namespace, '--duration=2h'])).stdout.trim();
      const path = join(info.stateDir, `sa-${namespace}-${name}-${process.pid}-${Date.now()}.kubeconfig`);
      await writeKubeconfig(path, info.url, pki, { token });
      return path;
    },
    async startApiServer(serverOptions) {
      extraServers += 1;
      const name = `kube-apiserver-${process.pid}-${extraServers}`;
      const second = await startKubeApiServer(info.binaries, info.stateDir, pki, info.etcdUrl, name, serverOptions);
      return { url: second.url, kubeconfigPath: second.kubeconfigPath, auditEvents: () => readAudit(info.stateDir, name), stop: () => stopProcess(second.managed) };
    },
    auditEvents: () => readAudit(info.stateDir, 'kube-apiserver'),
    async compactEtcd() {
      const range = await fetch(`${info.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
      const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
      const compaction = await fetch(`${info.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
      if (!compaction.ok) throw new Error(`etcd compaction failed: ${compaction.status} ${await compaction.text()}`);
      return revision;
    },
  };
}
