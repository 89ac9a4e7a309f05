import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { MAX_PAYMENT_OPTIONS } from '../../../core/offer.js';
import { MAX_SNAPSHOT_OFFERS } from '../../../core/snapshot.js';
import type { Env } from '../env.js';
import {
  GAUGE_METRICS,
  MAX_REASONS_PER_OFFER,
  MetricName,
  MetricsBatch,
  OTHER_REASON,
  OfferLabelsSchema,
  REASONS_METRIC,
  labelsKey,
  type SeriesDelta,
  type SeriesSample,
} from './series.js';

/** A batch or keep-list that does not fit the schema; the store is left unchanged. */
export class MetricsInputError extends Error {
  readonly reason = 'invalid_metrics_input';
  constructor(input: string, error: z.ZodError) {
    // the first few issues: a batch can hold thousands of deltas
    super(`${input}:\n${z.prettifyError({ issues: error.issues.slice(0, 5) })}`);
    this.name = 'MetricsInputError';
  }
}

// One labels set per payment option of every offer a snapshot can hold.
const KeepList = OfferLabelsSchema.array().max(MAX_SNAPSHOT_OFFERS * MAX_PAYMENT_OPTIONS);

type Row = {
  metric: string;
  offer_namespace: string;
  offer_name: string;
  chain: string;
  asset_symbol: string;
  reason: string;
  value: number;
};

/**
 * The edge-wide totals of SPEC §8, one instance (`getByName('metrics')`), SQLite-backed. Isolates
 * add their batches; the metrics route reads the totals and prunes offers that left the catalog.
 */
export class MetricsStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS series (
      metric TEXT NOT NULL, offer_namespace TEXT NOT NULL, offer_name TEXT NOT NULL, chain TEXT NOT NULL,
      asset_symbol TEXT NOT NULL, reason TEXT NOT NULL, value INTEGER NOT NULL,
      PRIMARY KEY (metric, offer_namespace, offer_name, chain, asset_symbol, reason)) WITHOUT ROWID`);
  }

  /** Add counter increments and gauge observations, all or nothing. */
  add(input: unknown): number {
    const parsed = MetricsBatch.safeParse(input);
    if (!parsed.success) throw new MetricsInputError('metrics batch', parsed.error);
    this.ctx.storage.transactionSync(() => {
      for (const delta of parsed.data) this.apply(delta);
    });
    return parsed.data.length;
  }

  private apply(delta: SeriesDelta): void {
    const l = delta.labels;
    const reason = delta.metric === REASONS_METRIC ? this.boundedReason(delta) : '';
    const merge = GAUGE_METRICS.has(delta.metric) ? 'max(value, excluded.value)' : 'value + excluded.value';
    this.sql.exec(
      `INSERT INTO series (metric, offer_namespace, offer_name, chain, asset_symbol, reason, value)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (metric, offer_namespace, offer_name, chain, asset_symbol, reason) DO UPDATE SET value = ${merge}`,
      delta.metric, l.offer_namespace, l.offer_name, l.chain, l.asset_symbol, reason, delta.value,
    );
  }

  /** At most MAX_REASONS_PER_OFFER distinct reasons per offer label set; later ones count as "other". */
  private boundedReason(delta: SeriesDelta): string {
    const l = delta.labels;
    const reason = delta.reason === '' ? OTHER_REASON : delta.reason;
    if (reason === OTHER_REASON) return reason;
    const where = 'metric = ? AND offer_namespace = ? AND offer_name = ? AND chain = ? AND asset_symbol = ?';
    const args = [REASONS_METRIC, l.offer_namespace, l.offer_name, l.chain, l.asset_symbol];
    const exists = this.sql.exec(`SELECT 1 FROM series WHERE ${where} AND reason = ?`, ...args, reason).toArray().length > 0;
    if (exists) return reason;
    const named = this.sql.exec(`SELECT count(*) AS n FROM series WHERE ${where} AND reason != ?`, ...args, OTHER_REASON).one();
    return Number(named['n']) >= MAX_REASONS_PER_OFFER ? OTHER_REASON : reason;
  }

  /**
   * Every stored series. With a keep-list (the offers of the current snapshot), series of any other
   * label set are deleted first, so offers that left the catalog disappear for good.
   */
  read(keep?: unknown): SeriesSample[] {
    let keepKeys: Set<string> | undefined;
    if (keep !== undefined && keep !== null) {
      const parsed = KeepList.safeParse(keep);
      if (!parsed.success) throw new MetricsInputError('keep-list', parsed.error);
      keepKeys = new Set(parsed.data.map(labelsKey));
    }
    const rows = this.sql.exec<Row>('SELECT * FROM series ORDER BY metric, offer_namespace, offer_name, chain, asset_symbol, reason').toArray();
    const samples: SeriesSample[] = [];
    const dropped: Row[] = [];
    for (const row of rows) {
      const sample = toSample(row);
      if (sample && (!keepKeys || keepKeys.has(labelsKey(sample.labels)))) samples.push(sample);
      else dropped.push(row);
    }
    if (dropped.length > 0) this.drop(dropped);
    return samples;
  }

  private drop(rows: readonly Row[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const r of rows) {
        this.sql.exec(
          'DELETE FROM series WHERE metric = ? AND offer_namespace = ? AND offer_name = ? AND chain = ? AND asset_symbol = ? AND reason = ?',
          r.metric, r.offer_namespace, r.offer_name, r.chain, r.asset_symbol, r.reason,
        );
      }
    });
  }
}

function toSample(row: Row): SeriesSample | undefined {
  const metric = MetricName.safeParse(row.metric);
  if (!metric.success) return undefined;
  const labels = { offer_namespace: row.offer_namespace, offer_name: row.offer_name, chain: row.chain, asset_symbol: row.asset_symbol };
  return { metric: metric.data, labels, reason: row.reason, value: Number(row.value) };
}
