import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../env.js';
import type { SeriesDelta } from './series.js';

/**
 * The per-isolate recorder's batching, driven with fake timers and a recording MetricsStore
 * namespace (the real store is exercised through workerd in metrics.test.ts).
 */
type Recorder = typeof import('./recorder.js');

const labels = { offer_namespace: 'shop', offer_name: 'llm', chain: 'eip155:84532', asset_symbol: 'USDC' };

class RecordingStore {
  batches: SeriesDelta[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  failNext = 0;
  delayMs = 0;
  async add(batch: SeriesDelta[]): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('store unavailable');
      }
      this.batches.push(structuredClone(batch));
      return batch.length;
    } finally {
      this.inFlight--;
    }
  }
  total(metric: string, reason = ''): number {
    return this.batches.flat().filter((d) => d.metric === metric && d.reason === reason).reduce((sum, d) => sum + d.value, 0);
  }
}

let store: RecordingStore;
let env: Env;
let waits: Promise<unknown>[];
const ctx = { waitUntil: (p: Promise<unknown>) => void waits.push(p) };
let recorder: Recorder;

beforeEach(async () => {
  vi.useFakeTimers({ now: Date.UTC(2026, 10, 23, 10, 0, 0) });
  vi.resetModules();
  recorder = await import('./recorder.js');
  store = new RecordingStore();
  env = { METRICS: { getByName: () => store } } as unknown as Env;
  waits = [];
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function settle(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('recordGateEvent', () => {
  it('never blocks the caller: it returns before anything reaches the store', () => {
    recorder.recordGateEvent(env, ctx, labels, 'request');
    expect(store.batches).toEqual([]);
    expect(waits).toHaveLength(1);
  });

  it('coalesces a burst of events into one background flush with exact counts', async () => {
    for (let i = 0; i < 25; i++) recorder.recordGateEvent(env, ctx, labels, 'request');
    for (let i = 0; i < 7; i++) recorder.recordGateEvent(env, ctx, labels, 'payment_required');
    expect(waits).toHaveLength(1);
    await settle(10);
    expect(store.batches).toHaveLength(1);
    expect(store.total('obol_x402_verifier_requests_total')).toBe(25);
    expect(store.total('obol_x402_verifier_payment_required_total')).toBe(7);
  });

  it('flushes at most once a second and never has two flushes in flight', async () => {
    store.delayMs = 300;
    recorder.recordGateEvent(env, ctx, labels, 'request');
    await settle(100);
    recorder.recordGateEvent(env, ctx, labels, 'request');
    await settle(100);
    expect(store.batches).toHaveLength(0);
    await settle(200);
    expect(store.batches).toHaveLength(1);
    await settle(500);
    expect(store.batches).toHaveLength(1);
    await settle(1000);
    expect(store.batches).toHaveLength(2);
    expect(store.maxInFlight).toBe(1);
    expect(store.total('obol_x402_verifier_requests_total')).toBe(2);
  });

  it('flushes early once the size threshold is reached', async () => {
    recorder.recordGateEvent(env, ctx, labels, 'request');
    await settle(10);
    for (let i = 0; i < recorder.FLUSH_SERIES_THRESHOLD; i++) {
      recorder.recordGateEvent(env, ctx, { ...labels, offer_name: `svc-${i}` }, 'request');
    }
    await settle(50);
    expect(store.batches).toHaveLength(2);
    expect(store.batches[1]).toHaveLength(recorder.FLUSH_SERIES_THRESHOLD);
  });

  it('keeps counts when the store fails and delivers them on a later flush', async () => {
    store.failNext = 1;
    recorder.recordGateEvent(env, ctx, labels, 'payment_failed', 'invalid_exact_evm_payload_signature');
    await settle(10);
    expect(store.batches).toHaveLength(0);
    recorder.recordGateEvent(env, ctx, labels, 'payment_failed', 'invalid_exact_evm_payload_signature');
    await settle(1100);
    expect(store.total('obol_x402_verifier_payment_failed_total')).toBe(2);
    expect(store.total('obol_x402_verifier_payment_failure_reasons_total', 'invalid_exact_evm_payload_signature')).toBe(2);
  });

  it('sets the last-success gauge to Unix seconds on a charge', async () => {
    recorder.recordGateEvent(env, ctx, labels, 'charged');
    await settle(10);
    const gauge = store.batches.flat().find((d) => d.metric === 'obol_x402_verifier_last_payment_success_seconds');
    expect(gauge?.value).toBe(Date.UTC(2026, 10, 23, 10, 0, 0) / 1000);
    expect(store.total('obol_x402_verifier_charged_requests_total')).toBe(1);
  });

  it('buckets free-text and over-long reasons as "other" and ignores reasons on other events', async () => {
    recorder.recordGateEvent(env, ctx, labels, 'payment_failed', 'Facilitator said: "no funds"\nretry later');
    recorder.recordGateEvent(env, ctx, labels, 'payment_failed', 'x'.repeat(65));
    recorder.recordGateEvent(env, ctx, labels, 'payment_verified', 'ignored');
    await settle(10);
    const reasons = store.batches.flat().filter((d) => d.metric === 'obol_x402_verifier_payment_failure_reasons_total');
    expect(reasons).toEqual([expect.objectContaining({ reason: 'other', value: 2 })]);
    expect(store.batches.flat().filter((d) => d.reason === 'ignored')).toEqual([]);
  });
});

describe('offerLabels', () => {
  const base = {
    key: 'shop/llm', namespace: 'shop', name: 'llm', path: '/services/llm', type: 'inference' as const,
    description: 'd', network: 'base-sepolia', price: { raw: '0.001', unit: 'perRequest' as const, display: '0.001 USDC/request' },
    upstreamHealthy: true, routeReady: true, phase: 'active' as const,
  };

  it('takes the chain from the network when the payment did not resolve and says unknown for the asset', () => {
    expect(recorder.offerLabels(base)).toEqual({ offer_namespace: 'shop', offer_name: 'llm', chain: 'eip155:84532', asset_symbol: 'unknown' });
  });

  it('takes chain and symbol from the resolved requirement', () => {
    const requirement = {
      scheme: 'exact' as const, network: 'eip155:8453', v1Network: 'base', chainId: 8453, amount: '1000',
      asset: { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', symbol: 'USDC', decimals: 6, transferMethod: 'eip3009' as const, eip712Domain: { name: 'USD Coin', version: '2' } },
      payTo: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', maxTimeoutSeconds: 300, description: 'd', mimeType: 'application/json',
    };
    expect(recorder.offerLabels({ ...base, network: 'base', requirement })).toMatchObject({ chain: 'eip155:8453', asset_symbol: 'USDC' });
  });
});
