import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * Process management for the local stack: child processes in their own process groups (so a
 * whole tree stops with one signal), in-process services with a close function, readiness
 * polling, and a port check. Steps of `npm run dev` register what they start with a `Stack`, which
 * stops everything in reverse order.
 */

export class PortBusyError extends Error {
  readonly reason = 'port_busy';
  constructor(readonly host: string, readonly port: number, readonly purpose: string) {
    super(`port ${port} on ${host} is already in use (needed for ${purpose}); stop whatever listens there and try again`);
    this.name = 'PortBusyError';
  }
}

export class NotReadyError extends Error {
  readonly reason = 'not_ready';
  constructor(readonly url: string, timeoutMs: number, detail: string) {
    super(`${url} did not answer within ${timeoutMs} ms (${detail})`);
    this.name = 'NotReadyError';
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  readonly hasExited: () => boolean;
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnParams {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Each output line; defaults to printing it prefixed with the process name. */
  readonly onLine?: (line: string) => void;
}

/** Start a child in its own process group, its output piped line by line. */
export function spawnManaged(params: SpawnParams): ManagedProcess {
  const child = spawn(params.command, [...params.args], {
    cwd: params.cwd,
    env: params.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${params.name} (${params.command})`);
  const pid = child.pid;
  const onLine = params.onLine ?? ((line: string) => process.stdout.write(`[${params.name}] ${line}\n`));
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { done = true; resolve(code); });
    child.once('error', () => { done = true; resolve(null); });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return {
    name: params.name,
    pid,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5_000) {
      if (done) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Grandchildren (e.g. workerd under wrangler) may outlive their parent: sweep the group.
      signalGroup('SIGKILL');
    },
  };
}

/** What the stack started, stopped in reverse order. */
export class Stack {
  private readonly stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  private stopping: Promise<void> | undefined;

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  addProcess(proc: ManagedProcess): ManagedProcess {
    this.add(proc.name, () => proc.stop());
    return proc;
  }

  /** Stop everything once; later calls wait for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { name, stop } of [...this.stops].reverse()) {
        try {
          await stop();
        } catch (error) {
          process.stderr.write(`could not stop ${name}: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.stopping;
  }
}

/** Throws PortBusyError when something already listens on host:port. */
export async function assertPortFree(port: number, host: string, purpose: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortBusyError(host, port, purpose) : error);
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Stop waiting early when this turns false (e.g. the process died). */
  readonly alive?: () => boolean;
}

/** Poll `url` until it answers 2xx. */
export async function waitForHttp(url: string, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let detail = 'no answer yet';
  while (Date.now() < deadline) {
    if (options.alive && !options.alive()) throw new NotReadyError(url, options.timeoutMs, 'the process exited');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.ok) return;
      detail = `last answer ${res.status}`;
    } catch (error) {
      detail = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new NotReadyError(url, options.timeoutMs, detail);
}
