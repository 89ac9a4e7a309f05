import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The live heap of a V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal` writes it): the
 * sum of every node's self size. V8 runs a full GC before it takes the snapshot, so this is what
 * the process really retains, garbage excluded.
 */

const HeapSnapshot = z.object({
  snapshot: z.object({ meta: z.object({ node_fields: z.array(z.string()) }) }),
  // Millions of numbers: checked as an array, not element by element (and not copied).
  nodes: z.custom<number[]>((value) => Array.isArray(value), 'nodes must be an array'),
});

export function liveHeapOf(snapshot: unknown): number {
  const parsed = HeapSnapshot.parse(snapshot);
  const fields = parsed.snapshot.meta.node_fields;
  const selfSize = fields.indexOf('self_size');
  if (selfSize < 0) throw new Error('the heap snapshot has no self_size field');
  let total = 0;
  for (let i = selfSize; i < parsed.nodes.length; i += fields.length) total += parsed.nodes[i] ?? 0;
  return total;
}

export function liveHeapBytes(file: string): number {
  return liveHeapOf(JSON.parse(readFileSync(file, 'utf8')) as unknown);
}
