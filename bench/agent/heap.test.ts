import { describe, expect, it } from 'vitest';
import { liveHeapOf } from './heap.js';

describe('liveHeapOf', () => {
  it('sums the self size of every node, whatever the field order', () => {
    const snapshot = { snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'] } }, nodes: [0, 1, 1, 100, 0, 2, 3, 2, 28, 0] };
    expect(liveHeapOf(snapshot)).toBe(128);
  });
  it('refuses a file that is not a heap snapshot', () => {
    expect(() => liveHeapOf({ nodes: [] })).toThrow();
    expect(() => liveHeapOf({ snapshot: { meta: { node_fields: ['type'] } }, nodes: [1] })).toThrow(/self_size/);
  });
});
