import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The control plane's binaries, built from the pinned Go modules in `controlplane/` (Kubernetes
 * with its staging modules replaced by the published ones, etcd, and our PKI tool) and cached
 * outside the git tree under a key of everything that decides their bytes, so they are rebuilt
 * only when a pin changes. The Gateway API CRDs come from the module pinned in `gateway-api/`.
 */

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const CONTROL_PLANE_MODULE = join(HERE, 'controlplane');
const GATEWAY_API_MODULE = join(HERE, 'gateway-api');

/** The Kubernetes release the module pins; stamped into the binaries so `version` answers truly. */
export const KUBERNETES_VERSION = 'v1.37.2';
const [, MAJOR, MINOR] = /^v(\d+)\.(\d+)/.exec(KUBERNETES_VERSION) ?? [];

const PACKAGES = {
  etcd: 'go.etcd.io/etcd/server/v3',
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  pki: './pki',
} as const;

const LDFLAGS = [
  '-s',
  '-w',
  `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
  `-X k8s.io/component-base/version.gitMajor=${MAJOR}`,
  `-X k8s.io/component-base/version.gitMinor=${MINOR}`,
  `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
].join(' ');

export type BinaryName = keyof typeof PACKAGES;

export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly path: Record<BinaryName, string>;
  /** `config/crd/standard` of the pinned Gateway API module. */
  readonly gatewayApiCrdDir: string;
}

export class GoMissingError extends Error {
  readonly reason = 'go_missing';
  constructor() {
    super('the real-cluster tests need Go ≥ 1.26 on PATH (the machine kind `go` has it at /usr/local/go/bin): they build kube-apiserver, kube-controller-manager, kubectl and etcd from the pinned modules in test/kube/controlplane');
    this.name = 'GoMissingError';
  }
}

/** `go`: `$OBOL_GO` when set, else from PATH or the usual install folder; undefined when there is none. */
export async function findGo(): Promise<string | undefined> {
  for (const candidate of process.env.OBOL_GO ? [process.env.OBOL_GO] : ['go', '/usr/local/go/bin/go']) {
    try {
      await run(candidate, ['version']);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function cacheRoot(): string {
  return process.env.OBOL_KUBE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'obol-edge', 'kube');
}

async function cacheKey(go: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'pki/main.go']) hash.update(await readFile(join(CONTROL_PLANE_MODULE, file)));
  hash.update((await run(go, ['version'])).stdout);
  hash.update(LDFLAGS);
  return `${KUBERNETES_VERSION}-${hash.digest('hex').slice(0, 16)}`;
}

/** Take a lock folder (atomic mkdir), waiting for another build to finish. */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) throw new Error(`the control plane build lock ${lockDir} was held for an hour; remove it if no build runs`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

/** The folder of `module` at the version the go.mod in `pinDir` requires (downloaded if not cached yet). */
export async function pinnedModuleDir(go: string, pinDir: string, module: string): Promise<string> {
  const { stdout } = await run(go, ['mod', 'download', '-json', module], { cwd: pinDir, maxBuffer: 1 << 20 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download did not report the folder of ${module} pinned in ${pinDir}`);
  return dir;
}

async function gatewayApiCrdDir(go: string): Promise<string> {
  return join(await pinnedModuleDir(go, GATEWAY_API_MODULE, 'sigs.k8s.io/gateway-api'), 'config', 'crd', 'standard');
}

/**
 * The binaries for the pinned versions, built on first use (minutes) and reused after (instant).
 * `onBuild` hears when a build starts, since it is long.
 */
export async function ensureBinaries(onBuild: (message: string) => void = () => undefined): Promise<ControlPlaneBinaries> {
  const go = await findGo();
  if (!go) throw new GoMissingError();
  const root = cacheRoot();
  const dir = join(root, await cacheKey(go));
  const path = Object.fromEntries(Object.keys(PACKAGES).map((name) => [name, join(dir, name)])) as Record<BinaryName, string>;
  const complete = () => Object.values(path).every((file) => existsSync(file));
  if (!complete()) {
    await mkdir(root, { recursive: true });
    await withLock(`${dir}.lock`, async () => {
      if (complete()) return;
      const started = Date.now();
      onBuild(`building the control plane (${KUBERNETES_VERSION}) into ${dir}; the first build takes several minutes`);
      const staging = `${dir}.tmp`;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      for (const [name, pkg] of Object.entries(PACKAGES)) {
        await run(go, ['build', '-mod=readonly', '-trimpath', '-ldflags', LDFLAGS, '-o', join(staging, name), pkg], {
          cwd: CONTROL_PLANE_MODULE,
          env: { ...process.env, CGO_ENABLED: '0' },
          maxBuffer: 16 << 20,
        });
      }
      await writeFile(join(staging, 'BUILT'), `${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      onBuild(`control plane built in ${Math.round((Date.now() - started) / 1000)} s`);
    });
  }
  return { dir, path, gatewayApiCrdDir: await gatewayApiCrdDir(go) };
}
