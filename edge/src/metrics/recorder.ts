import { paymentOptions, resolveNetwork, type PaymentRequirement, type SnapshotOffer } from '../../../core/index.js';
import type { Env } from '../env.js';
import { metricsStore } from './store-client.js';
import { GAUGE_METRICS, MAX_BATCH_SERIES, REASONS_METRIC, normalizeReason, seriesKey, type MetricName, type SeriesDelta } from './series.js';

/**
 * Per-isolate payment counters (SPEC §8). The gate calls `recordGateEvent` at each decision; the
 * counts accumulate in memory and are flushed to the MetricsStore Durable Object in the background
 * (`ctx.waitUntil`), at most one flush at a time, about once a second or sooner on a size threshold.
 * Nothing here is ever awaited on a request's path.
 */
export interface OfferLabels {
  offer_namespace: string;
  offer_name: string;
  chain: string;
  asset_symbol: string;
}

export type GateEvent = 'request' | 'payment_required' | 'payment_verified' | 'payment_failed' | 'charged';

export const FLUSH_INTERVAL_MS = 1000;
/** Flush without waiting for the interval once this many series are pending. */
export const FLUSH_SERIES_THRESHOLD = 512;
/** A background flush loop gives up after this many rounds; the next event restarts it. */
const MAX_FLUSH_ROUNDS = 5;

/** An offer's labels for one of its payment options (default: the first, `requirement`). */
export function offerLabels(offer: SnapshotOffer, option: PaymentRequirement | undefined = offer.requirement): OfferLabels {
  return {
    offer_namespace: offer.namespace,
    offer_name: offer.name,
    chain: option?.network ?? resolveNetwork(offer.network)?.caip2 ?? offer.network,
    asset_symbol: option?.asset.symbol ?? 'unknown',
  };
}

/** The labels of every payment option of an offer (the first alone while its payment is unresolved). */
export function optionLabels(offer: SnapshotOffer): OfferLabels[] {
  const options = paymentOptions(offer);
  return options.length ? options.map((option) => offerLabels(offer, option)) : [offerLabels(offer)];
}

const EVENT_METRIC: Record<GateEvent, MetricName> = {
  request: 'obol_x402_verifier_requests_total',
  payment_required: 'obol_x402_verifier_payment_required_total',
  payment_verified: 'obol_x402_verifier_payment_verified_total',
  payment_failed: 'obol_x402_verifier_payment_failed_total',
  charged: 'obol_x402_verifier_charged_requests_total',
};

/** What is needed of the request's ExecutionContext. */
type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

// Module state lives as long as the isolate.
let pending = new Map<string, SeriesDelta>();
let lastFlushMs = 0;
/** A store call is running; never two at once. */
let sending = false;
/** Some request's waitUntil holds the timed flush loop. */
let timerArmed = false;

/** Put a delta back after a failed flush. */
function add(delta: SeriesDelta): void {
  const key = seriesKey(delta);
  const seen = pending.get(key);
  if (!seen) pending.set(key, { ...delta, labels: { ...delta.labels } });
  else seen.value = GAUGE_METRICS.has(delta.metric) ? Math.max(seen.value, delta.value) : seen.value + delta.value;
}

function labelValue(value: string, max: number): string {
  return value === '' ? 'unknown' : value.slice(0, max);
}

/** An offer's labels clamped once, with its series keys built once: recording is then O(1). */
interface PreparedLabels {
  readonly plain: OfferLabels;
  readonly keys: Map<string, string>;
}

// Keyed by the caller's labels object (the gate keeps one per offer per catalog view).
const prepared = new WeakMap<OfferLabels, PreparedLabels>();

function prepare(labels: OfferLabels): PreparedLabels {
  let entry = prepared.get(labels);
  if (!entry) {
    // Clamped to the store's schema so one odd label can never get a whole batch refused.
    const plain: OfferLabels = {
      offer_namespace: labelValue(labels.offer_namespace, 63),
      offer_name: labelValue(labels.offer_name, 253),
      chain: labelValue(labels.chain, 64),
      asset_symbol: labelValue(labels.asset_symbol, 32),
    };
    entry = { plain, keys: new Map() };
    prepared.set(labels, entry);
  }
  return entry;
}

function record(entry: PreparedLabels, metric: MetricName, reason: string, value: number): void {
  const cacheKey = `${metric}\n${reason}`;
  let key = entry.keys.get(cacheKey);
  if (key === undefined) {
    key = seriesKey({ metric, labels: entry.plain, reason });
    // Reasons are normalized codes, but bound the per-offer key cache anyway.
    if (entry.keys.size < 256) entry.keys.set(cacheKey, key);
  }
  const seen = pending.get(key);
  if (!seen) pending.set(key, { metric, labels: { ...entry.plain }, reason, value });
  else seen.value = GAUGE_METRICS.has(metric) ? Math.max(seen.value, value) : seen.value + value;
}

/** Labels are treated as immutable: pass the same object for the same offer to hit the cache. */
export function recordGateEvent(env: Env, ctx: WaitUntil, labels: OfferLabels, event: GateEvent, reason?: string): void {
  const entry = prepare(labels);
  record(entry, EVENT_METRIC[event], '', 1);
  if (event === 'charged') record(entry, 'obol_x402_verifier_last_payment_success_seconds', '', Math.floor(Date.now() / 1000));
  if (event === 'payment_failed' && reason !== undefined) record(entry, REASONS_METRIC, normalizeReason(reason), 1);
  scheduleFlush(env, ctx);
}

function scheduleFlush(env: Env, ctx: WaitUntil): void {
  if (pending.size === 0) return;
  if (pending.size >= FLUSH_SERIES_THRESHOLD && !sending) ctx.waitUntil(send(env));
  if (!timerArmed) {
    timerArmed = true;
    ctx.waitUntil(timedFlushLoop(env));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function timedFlushLoop(env: Env): Promise<void> {
  try {
    for (let round = 0; round < MAX_FLUSH_ROUNDS && pending.size > 0; round++) {
      // Even when due, yield once so events of the same turn travel in one batch.
      await sleep(lastFlushMs + FLUSH_INTERVAL_MS - Date.now());
      while (sending) await sleep(20);
      await send(env);
    }
  } finally {
    timerArmed = false;
  }
}

async function send(env: Env): Promise<void> {
  if (sending || pending.size === 0) return;
  sending = true;
  try {
    await flushOnce(env);
  } finally {
    sending = false;
  }
}

async function flushOnce(env: Env): Promise<void> {
  const batch = [...pending.values()];
  pending = new Map();
  lastFlushMs = Date.now();
  // The stub is made here so it belongs to the request whose waitUntil runs this flush.
  const store = metricsStore(env);
  for (let start = 0; start < batch.length; start += MAX_BATCH_SERIES) {
    try {
      await store.add(batch.slice(start, start + MAX_BATCH_SERIES));
    } catch (error) {
      for (const delta of batch.slice(start)) add(delta);
      console.error(JSON.stringify({ level: 'warn', msg: 'metrics flush failed; counts kept for the next flush', series: batch.length - start, error: String(error) }));
      return;
    }
  }
}
