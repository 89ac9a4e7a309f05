import { describe, expect, it } from 'vitest';
import { offerManifest } from '../../test/agent/support.js';
import { recordOf, sameOffer } from './kube.js';

function stored(extra: { metadata?: Record<string, unknown>; status?: unknown; spec?: Record<string, unknown> } = {}): Record<string, unknown> {
  const manifest = offerManifest('qwen', 'http://127.0.0.1:9', extra.spec ?? {});
  return {
    ...manifest,
    metadata: { ...(manifest.metadata as object), uid: 'u-1', generation: 1, resourceVersion: '10', creationTimestamp: '2026-11-01T00:00:00Z', ...extra.metadata },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

const status = (message: string) => ({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message, lastTransitionTime: '2026-11-23T10:00:00Z' }] });

describe('kube source records', () => {
  it('a status, finalizer or resourceVersion change is the same offer for planning', () => {
    const before = recordOf(stored({ status: status('one') }));
    const after = recordOf(stored({ metadata: { resourceVersion: '11', finalizers: ['obol.org/catalog'] }, status: status('two') }));
    expect(before && after && sameOffer(before.input.parsed, after.input.parsed)).toBe(true);
    expect(after?.object?.status?.conditions?.[0]?.message).toBe('two');
    expect(after?.object?.finalizers).toEqual(['obol.org/catalog']);
  });

  it('a spec, annotation or label change is a different offer', () => {
    const base = recordOf(stored());
    const changes = [
      stored({ spec: { payment: { network: 'base-sepolia', payTo: '0x1111111111111111111111111111111111111111', price: { perRequest: '0.002' } } } }),
      stored({ metadata: { annotations: { 'obol.org/upstream-url': 'http://127.0.0.1:10' } } }),
      stored({ metadata: { labels: { tier: 'gold' } } }),
    ];
    for (const raw of changes) {
      const next = recordOf(raw);
      expect(base && next && sameOffer(base.input.parsed, next.input.parsed)).toBe(false);
    }
  });

  it('the parsed offer leaves its status to the object facts, and a malformed status still fails validation', () => {
    const record = recordOf(stored({ status: status('kept once') }));
    expect(record?.input.parsed.ok && record.input.parsed.offer.status).toBeUndefined();
    expect(record?.object?.status?.conditions).toHaveLength(1);
    const malformed = recordOf(stored({ status: { conditions: 'not a list' } }));
    expect(malformed?.input.parsed.ok).toBe(false);
  });
});
