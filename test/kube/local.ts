import { GoMissingError } from './binaries.js';
import { startControlPlane } from './control-plane.js';

/**
 * `npm run kube:local [state-dir]`: a real control plane on 127.0.0.1 (the one the tests use) until
 * Ctrl-C or SIGTERM. Prints the admin kubeconfig's path. Without a state folder it uses a fresh
 * temporary one and removes it on stop; a given folder is kept (and must be empty or new).
 */

async function main(): Promise<void> {
  const stateDir = process.argv[2];
  const plane = await startControlPlane({ ...(stateDir ? { stateDir } : {}), onProgress: (line) => console.error(`kube:local: ${line}`) });
  const { info } = plane;
  console.log(`
API server   ${info.url}
kubeconfig   ${info.kubeconfigPath}
state        ${info.stateDir} (logs: *.log, audit: kube-apiserver-audit.log)
kubectl      ${info.binaries.path.kubectl}

  export KUBECONFIG=${info.kubeconfigPath}
  ${info.binaries.path.kubectl} get crd
  npm run obol-edge -- agent --source kube --no-leader-election --edge http://127.0.0.1:8787 --gateway obol-system/obol-gateway

Ctrl-C stops etcd, the API server and the controller manager.`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`kube:local: ${signal}: stopping`);
    void plane.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`kube:local: ${error instanceof GoMissingError ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
