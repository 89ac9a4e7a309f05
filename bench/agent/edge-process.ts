import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../test/support/edge-bundle.js';
import { spawnManaged, waitForHttp, type ManagedProcess } from '../../stack/processes.js';
import { freePort, freePorts } from '../../stack/wrangler-edge.js';

export { freePort };

/**
 * The edge under `wrangler dev` for the agent bench: free ports chosen by the OS, 127.0.0.1 only,
 * state in a temp dir, its own process group (stopped by group id), vars given on the command line.
 */

export interface WranglerEdge {
  readonly url: string;
  readonly process: ManagedProcess;
  /** Output lines, kept for an error message if the edge fails to start. */
  readonly output: readonly string[];
  stop(): Promise<void>;
}

export async function startWranglerEdge(vars: Readonly<Record<string, string>>, readyTimeoutMs = 60_000): Promise<WranglerEdge> {
  const [port, inspectorPort] = await freePorts(2);
  const persistDir = mkdtempSync(join(tmpdir(), 'obol-agent-bench-edge-'));
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const varArgs = Object.entries(vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]);
  const proc = spawnManaged({
    name: 'edge',
    command: join(ROOT, 'node_modules', '.bin', 'wrangler'),
    args: ['dev', '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort), '--inspector-ip', '127.0.0.1',
      '--persist-to', persistDir, '--show-interactive-dev-session=false', ...varArgs],
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    onLine: (line) => void (output.length < 400 && output.push(line)),
  });
  const stop = async () => {
    await proc.stop();
    rmSync(persistDir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/healthz`, { timeoutMs: readyTimeoutMs, intervalMs: 100, alive: () => !proc.hasExited() });
  } catch (error) {
    await stop();
    throw new Error(`wrangler dev did not start: ${(error as Error).message}\n${output.slice(-20).join('\n')}`);
  }
  return { url, process: proc, output, stop };
}
