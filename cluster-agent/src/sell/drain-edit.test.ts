import { describe, expect, it } from 'vitest';
import { checkEdit, planStop, SellError } from './drain-edit.js';
import { drainFieldsOf, type OfferRecord } from './target.js';

const NOW = Date.parse('2026-06-01T12:00:00.400Z');
const STOP = { nowMs: NOW, immediately: false, force: false } as const;

function record(spec: Record<string, unknown> = {}): OfferRecord {
  const object = {
    apiVersion: 'obol.org/v1alpha1',
    kind: 'ServiceOffer',
    metadata: { name: 'w', namespace: 'apis' },
    spec: { upstream: { service: 'svc', port: 8080 }, payment: { network: 'base-sepolia', payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '0.001' } }, ...spec },
  };
  return { namespace: 'apis', name: 'w', object, drain: drainFieldsOf(object) };
}

/** The SellError `plan` throws, or a failure naming what it returned instead. */
function refusal(plan: () => unknown): SellError {
  let result: unknown;
  try {
    result = plan();
  } catch (error) {
    if (error instanceof SellError) return error;
    throw error;
  }
  throw new Error(`not refused; planned ${JSON.stringify(result)}`);
}

describe('planStop refuses what the agent would judge invalid', () => {
  it('a grace over 8760h is refused, naming the field and the bound, instead of taking the offer down at once', () => {
    const error = refusal(() => planStop(record(), { ...STOP, grace: '9000h' }));
    expect(error.reason).toBe('invalid_offer');
    expect(error.message).toBe('offer apis/w not changed: the edit would make it invalid, and the agent would take its route down at once: spec.drainGracePeriod: must be at most 8760h (365 days)');
  });

  it('8760h itself is the longest grace written', () => {
    expect(planStop(record(), { ...STOP, grace: '8760h' })).toEqual({ drainAt: '2026-06-01T12:00:00Z', drainGracePeriod: '8760h' });
  });

  it("a grace longer than the schema's 32 characters is refused too (the zod schema, not only the cross-field rules)", () => {
    const error = refusal(() => planStop(record(), { ...STOP, grace: `${'0'.repeat(40)}1h` }));
    expect(error.reason).toBe('invalid_offer');
    expect(error.message).toMatch(/: spec\.drainGracePeriod: .*32 characters$/);
  });

  it("--force without --grace does not restart a drain with the offer's own out-of-bound grace", () => {
    const error = refusal(() => planStop(record({ drainAt: '2026-06-01T11:00:00Z', drainGracePeriod: '9000h' }), { ...STOP, force: true }));
    expect(error.message).toContain('spec.drainGracePeriod: must be at most 8760h (365 days)');
    expect(planStop(record({ drainAt: '2026-06-01T11:00:00Z', drainGracePeriod: '9000h' }), { ...STOP, force: true, grace: '2h' })).toMatchObject({ drainGracePeriod: '2h' });
  });

  it("an offer invalid for another reason can still be stopped; the edit's own problem is still refused", () => {
    // A mixed-case payTo whose EIP-55 checksum is wrong: InvalidSpec already, not the edit's doing.
    const broken = record({ payment: { network: 'base-sepolia', payTo: '0x70997970c51812dc3A010C7d01b50e0d17dc79C8', price: { perRequest: '0.001' } } });
    expect(planStop(broken, { ...STOP, grace: '30m' })).toEqual({ drainAt: '2026-06-01T12:00:00Z', drainGracePeriod: '30m' });
    const error = refusal(() => planStop(broken, { ...STOP, grace: '9000h' }));
    expect(error.message).toMatch(/: spec\.drainGracePeriod: must be at most 8760h \(365 days\)$/);
  });
});

describe('checkEdit on resume', () => {
  it("removing the drain fields is allowed, even when they were the offer's only problem", () => {
    expect(() => checkEdit(record({ drainAt: '2026-06-01T11:00:00Z', drainGracePeriod: '9000h' }), null)).not.toThrow();
  });
});
