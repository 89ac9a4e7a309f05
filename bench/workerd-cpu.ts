import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of a worker's own workerd process, read from /proc: a cost per request that does not
 * depend on what else the machine runs (the load generator, the stubs), unlike latency. Linux only;
 * undefined elsewhere.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** The workerd processes this process started (Miniflare spawns one per instance). */
export function workerdChildren(): Set<number> {
  const found = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (command.startsWith('workerd') && Number(fields[1]) === process.pid) found.add(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** user + system CPU of `pid` so far, in ms; undefined when it cannot be read. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Starts a worker and returns it with the pid of the workerd process it added. */
export async function withWorkerdPid<T extends object>(start: () => Promise<T>): Promise<T & { pid?: number }> {
  const before = workerdChildren();
  const started = await start();
  const added = [...workerdChildren()].filter((pid) => !before.has(pid));
  return added.length === 1 ? { ...started, pid: added[0] } : started;
}
