import { z } from 'zod';

/**
 * The edge's payment metrics (SPEC §8): names, kinds and the series shape shared by the per-isolate
 * recorder, the MetricsStore Durable Object and the Prometheus exposition.
 */
export const METRICS = [
  { name: 'obol_x402_verifier_requests_total', kind: 'counter', help: 'Requests received on paid routes.' },
  { name: 'obol_x402_verifier_payment_required_total', kind: 'counter', help: '402 challenges issued.' },
  { name: 'obol_x402_verifier_payment_verified_total', kind: 'counter', help: 'Payments that passed verification.' },
  { name: 'obol_x402_verifier_payment_failed_total', kind: 'counter', help: 'Payments rejected at verification or settlement.' },
  { name: 'obol_x402_verifier_charged_requests_total', kind: 'counter', help: 'Requests served after a successful settlement.' },
  { name: 'obol_x402_verifier_last_payment_success_seconds', kind: 'gauge', help: 'Unix time of the last successful settlement.' },
  { name: 'obol_x402_verifier_payment_failure_reasons_total', kind: 'counter', help: 'Payment failures by x402 reason code.' },
] as const;

export type MetricName = (typeof METRICS)[number]['name'];
export const MetricName = z.enum(METRICS.map((m) => m.name) as [MetricName, ...MetricName[]]);

export const GAUGE_METRICS: ReadonlySet<MetricName> = new Set(METRICS.filter((m) => m.kind === 'gauge').map((m) => m.name));
export const REASONS_METRIC: MetricName = 'obol_x402_verifier_payment_failure_reasons_total';

/** Per-offer label set of SPEC §8. */
export const OfferLabelsSchema = z.object({
  offer_namespace: z.string().min(1).max(63),
  offer_name: z.string().min(1).max(253),
  chain: z.string().min(1).max(64),
  asset_symbol: z.string().min(1).max(32),
});

/** Reason label values: x402 reason codes only; anything else is bucketed as "other". */
export const MAX_REASON_LENGTH = 64;
export const MAX_REASONS_PER_OFFER = 64;
export const OTHER_REASON = 'other';
const REASON_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function normalizeReason(reason: string): string {
  const trimmed = reason.trim();
  return REASON_CODE.test(trimmed) ? trimmed : OTHER_REASON;
}

/** One increment (counter) or observation (gauge) for a series; `reason` is "" except on the reasons metric. */
export const SeriesDelta = z.object({
  metric: MetricName,
  labels: OfferLabelsSchema,
  reason: z.union([z.literal(''), z.string().regex(REASON_CODE)]),
  value: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type SeriesDelta = z.infer<typeof SeriesDelta>;

export const MAX_BATCH_SERIES = 10_000;
export const MetricsBatch = z.array(SeriesDelta).max(MAX_BATCH_SERIES);

/** A stored series with its current total (counter) or last value (gauge). */
export type SeriesSample = SeriesDelta;

/** Identity of an offer's label set, for keep-lists and map keys. */
export function labelsKey(labels: z.infer<typeof OfferLabelsSchema>): string {
  return JSON.stringify([labels.offer_namespace, labels.offer_name, labels.chain, labels.asset_symbol]);
}

export function seriesKey(delta: Pick<SeriesDelta, 'metric' | 'labels' | 'reason'>): string {
  return JSON.stringify([delta.metric, labelsKey(delta.labels), delta.reason]);
}
